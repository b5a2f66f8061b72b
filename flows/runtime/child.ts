/**
 * The Node-RED child's entry (started by agent/nodered/child-launcher.ts or the flows' own unit; compiled to
 * dist/flows/runtime/child.js). It loads node-red with the locked-down settings, serves the
 * editor and admin API on host:port, wires our nodes' link (flows/nodes/village-link.js) to
 * the agent's channel (channel-client.ts), and says `ready` once the flows run (or, in safe mode, once the editor is up). It
 * answers `ping` with `pong` and its stats, and on `stop` or when the agent goes away it
 * stops Node-RED, closes the server and exits.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { excludedTypes } from '../../core/contracts/core-nodes.js';
import { installDefaultFlows } from './default-flows.js';
import { excludingStorage, type FlowStorage } from './excluded-nodes.js';
import { EditorFront, guardServer } from './editor-front.js';
import { buildSettings } from './settings.js';
import { AgentChannel, parseArgs } from './channel-client.js';
import {
  MAX_EXCLUDED_LISTED,
  type ChildOptions,
  type ExcludedNodeReport,
  type FromChild,
  type LogLevel,
  type ToChild,
} from './protocol.js';
import { unitAlive } from './unit-watchdog.js';

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

const parsed = parseArgs(process.argv.slice(2));
if (!parsed) {
  console.error(
    'usage: child.js (--channel-fd N | --socket PATH) [--user-dir DIR]: this process is started by the agent',
  );
  process.exit(2);
}
const args = parsed;
let onAgentMessage: (m: ToChild) => void = () => {};
let onAgentGone: (why: string) => void = () => process.exit(0);
const channel = new AgentChannel(
  args.channel,
  (m) => onAgentMessage(m),
  (why) => onAgentGone(why),
);
const send = (m: FromChild): void => channel.send(m);
// Cut to fit a frame (a log line is the only message whose size a flow decides).
const log = (level: LogLevel, msg: string): void => send({ t: 'log', level, msg: msg.slice(0, 8000) });
/** A failure of this runtime itself (start, stop, its link), logged by the agent as NODE_RED_FAILED. */
const fail = (level: 'error' | 'fatal', msg: string): void =>
  send({ t: 'log', level, msg: msg.slice(0, 8000), runtime: true });

/** Where flows/nodes is: next to the sources (flows/runtime) or, compiled, three levels up from dist/flows/runtime. */
function defaultNodesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../nodes'), resolve(here, '../../../flows/nodes')];
  return candidates.find((d) => existsSync(join(d, 'package.json'))) ?? candidates[1]!;
}

/** The options come as the first message on the channel (never the environment: a flow's env.get() reads that). */
function readOptions(): Promise<ChildOptions> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      console.error('no init message from the agent within 10 s');
      process.exit(2);
    }, 10_000);
    onAgentMessage = (m) => {
      if (m.t !== 'init') return;
      clearTimeout(timer);
      onAgentMessage = () => {};
      resolve(args.userDir ? { ...m.options, userDir: args.userDir } : m.options);
    };
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
    fail('fatal', 'no editor users: Node-RED does not start without a login');
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
    fail('error', `our nodes' link ${linkFile} is missing: flows run, but no event reaches them and no request leaves`);
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
  // Flows using a core node that is not loaded still start, without it; the agent hears which.
  let excluded: ExcludedNodeReport[] = [];
  const storageModule = excludingStorage(
    redRequire('@node-red/runtime/lib/storage/localfilesystem') as FlowStorage,
    excludedTypes(options.allowNodes),
    options,
    (found) => (excluded = found),
  );
  const settings = buildSettings({ options, users, nodesDir, log, storageModule });
  RED.init(server, settings);
  app.use('/', RED.httpAdmin);
  if (options.httpNodeRoot !== false) app.use(options.httpNodeRoot, RED.httpNode);

  let events = 0;
  let stopping: Promise<void> | null = null;
  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      log('info', `stopping (${why})`);
      link?.detach();
      await RED.stop().catch((err: unknown) => fail('error', `Node-RED did not stop cleanly: ${String(err)}`));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      process.exit(0);
    })());

  onAgentMessage = (m) => {
    if (m.t === 'ping') {
      unitAlive();
      send({ t: 'pong', n: m.n, stats: { events, rssBytes: process.memoryUsage.rss() } });
    } else if (m.t === 'stop') void stop('asked by the agent');
    else if (m.t === 'unlock') front.unlock();
    else {
      if (m.t === 'event') events += 1;
      for (const l of listeners) l(m);
    }
  };
  onAgentGone = (why) => void stop(why);

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
  // Every start, 0 included: the agent's summary (for `status`) is of this start, not an older one.
  send({ t: 'nodes_excluded', total: excluded.length, nodes: excluded.slice(0, MAX_EXCLUDED_LISTED) });
  send({ t: 'ready', url: `http://${host}:${port}/`, safeMode: options.safeMode });
}

main().catch((err: unknown) => {
  fail('fatal', `Node-RED did not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  // Let the log message reach the agent before the channel closes.
  setTimeout(() => process.exit(1), 50).unref();
});
