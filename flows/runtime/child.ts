/**
 * The Node-RED child's entry (fork()ed by agent/nodered/supervisor.ts; compiled to
 * dist/flows/runtime/child.js). It loads node-red with the locked-down settings, serves the
 * editor and admin API on host:port, wires our nodes' link (flows/nodes/village-link.js) to
 * IPC, and says `ready` once the flows run (or, in safe mode, once the editor is up). It
 * answers `ping` with `pong` and its stats, and on `stop` or when the agent goes away it
 * stops Node-RED, closes the server and exits.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installDefaultFlows } from './default-flows.js';
import { EditorFront, guardServer } from './editor-front.js';
import { buildSettings } from './settings.js';
import { type ChildOptions, type FromChild, type LogLevel, type ToChild } from './protocol.js';

interface Link {
  attach(t: { send(m: unknown): void; onMessage(cb: (m: unknown) => void): () => void }): void;
  detach(): void;
}
interface NodeRed {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: unknown;
  httpNode: unknown;
  events: { once(name: string, l: () => void): void; on(name: string, l: (...a: unknown[]) => void): void };
}

const send = (m: FromChild): void => {
  if (process.connected) process.send!(m);
};
const log = (level: LogLevel, msg: string): void => send({ t: 'log', level, msg });

/** Where flows/nodes is: next to the sources (flows/runtime) or, compiled, three levels up from dist/flows/runtime. */
function defaultNodesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../nodes'), resolve(here, '../../../flows/nodes')];
  return candidates.find((d) => existsSync(join(d, 'package.json'))) ?? candidates[1]!;
}

/** The options come as the first IPC message (never the environment: a flow's env.get() reads that). */
function readOptions(): Promise<ChildOptions> {
  if (!process.send) {
    console.error('no IPC channel: this process is started by the agent');
    process.exit(2);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      console.error('no init message from the agent within 10 s');
      process.exit(2);
    }, 10_000);
    const onMessage = (m: unknown): void => {
      if (typeof m !== 'object' || m === null || (m as { t?: unknown }).t !== 'init') return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve((m as { options: ChildOptions }).options);
    };
    process.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  const options = await readOptions();
  const require = createRequire(import.meta.url);
  const redRequire = createRequire(require.resolve('node-red'));
  const bcrypt = redRequire('bcryptjs') as {
    hash(s: string, rounds: number): Promise<string>;
    compare(s: string, hash: string): Promise<boolean>;
  };
  const express = redRequire('express') as () => ((...a: unknown[]) => void) & {
    use(path: string, h: unknown): void;
    disable(k: string): void;
  };
  if (options.users.length === 0) {
    // The config requires a user; this holds even if a caller skipped the config's check.
    log('fatal', 'no editor users: Node-RED does not start without a login');
    process.exit(2);
  }
  const users = await Promise.all(
    options.users.map(async (u) => ({
      username: u.username,
      passwordHash: u.passwordHash ?? (await bcrypt.hash(u.password, 10)),
    })),
  );
  const nodesDir = options.nodesDir ?? defaultNodesDir();
  mkdirSync(options.userDir, { recursive: true });
  // First start only: the shipped default flows; a flow file that exists (the technician's) is never replaced.
  if (installDefaultFlows(options.userDir, options.flowFile, options.defaultFlows) === 'copied')
    log('info', `first start: the default flows (${options.defaultFlows}) copied to ${options.flowFile}`);

  // Before node-red loads our nodes: they and this process share one link (a globalThis singleton).
  let link: Link | null = null;
  const linkFile = join(nodesDir, 'village-link.js');
  const listeners = new Set<(m: unknown) => void>();
  if (existsSync(linkFile)) {
    link = require(linkFile) as Link;
    link.attach({
      send: (m) => send(m as FromChild),
      onMessage: (cb) => {
        listeners.add(cb);
        return () => void listeners.delete(cb);
      },
    });
  } else {
    log('error', `our nodes' link ${linkFile} is missing: flows run, but no event reaches them and no request leaves`);
  }

  const RED = require('node-red') as NodeRed;
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  guardServer(server);
  // Before Node-RED: body limits and per-client login limits (see editor-front.ts).
  const front = new EditorFront({
    users,
    compare: (pw, hash) => bcrypt.compare(pw, hash),
    onFailure: (failure) => send({ t: 'login_failed', failure }),
  });
  app.use('/', front.handle);
  const settings = buildSettings({ options, users, nodesDir, log });
  RED.init(server, settings);
  app.use('/', RED.httpAdmin);
  if (options.httpNodeRoot !== false) app.use(options.httpNodeRoot, RED.httpNode);

  let events = 0;
  let stopping: Promise<void> | null = null;
  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      log('info', `stopping (${why})`);
      link?.detach();
      await RED.stop().catch((err: unknown) => log('error', `Node-RED did not stop cleanly: ${String(err)}`));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      process.exit(0);
    })());

  process.on('message', (m: ToChild) => {
    if (m.t === 'ping') send({ t: 'pong', n: m.n, stats: { events, rssBytes: process.memoryUsage.rss() } });
    else if (m.t === 'stop') void stop('asked by the agent');
    else if (m.t === 'unlock') front.unlock();
    else {
      if (m.t === 'event') events += 1;
      for (const l of listeners) l(m);
    }
  });
  process.on('disconnect', () => void stop('the agent went away'));

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const started = options.safeMode ? Promise.resolve() : new Promise<void>((r) => RED.events.once('flows:started', r));
  await RED.start();
  await started;
  send({ t: 'ready', url: `http://${host}:${port}/`, safeMode: options.safeMode });
}

main().catch((err: unknown) => {
  log('fatal', `Node-RED did not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  // Let the log message reach the agent before the channel closes.
  setTimeout(() => process.exit(1), 50).unref();
});
