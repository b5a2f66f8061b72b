/**
 * Starts the Node-RED child and hands the supervisor its channel's socket. Two ways:
 * - `spawn` (default): a plain child process (no IPC fd: `process.send` does not exist in it)
 *   whose fd 3 is one end of a Unix socket pair made by spawn (the other end is the agent's);
 *   as root it runs as the flows' user, in its userDir, at nice 10, with a minimal environment.
 * - `systemd`: the flows' own unit (deploy/village-gateway-flows.service) starts the child; the
 *   agent listens on `<runtimeDir>/flows.sock` and takes one connection at a time. Killing it
 *   means dropping the connection: the child exits when it sees that (a stuck one is restarted
 *   by the unit's watchdog).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { failure } from '../../core/kernel/errors.js';
import type { NodeRedConfig } from '../../config/schema/gateway-config.js';
import { defaultChildPath } from './child-files.js';
import { assertCodeReachable } from './code-reach.js';
import { flowsUser, lookUpUser, prepareUserDir, type FlowsUser } from './flows-user.js';

/** The child's nice value: below the agent (0), so the alarm path wins the CPU. */
const CHILD_NICE = 10;

export interface LaunchedChild {
  readonly pid: number | null;
  /** SIGKILL (spawn) or the connection dropped (systemd). */
  kill(): void;
}

export interface LaunchHandlers {
  onSocket(socket: Socket): void;
  /** Once, however it ended. */
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface SpawnLaunch {
  mode: 'spawn';
  childPath: string;
  userDir: string;
  memoryMb: number;
  /** null: the agent's own uid. */
  user: FlowsUser | null;
}

export interface SystemdLaunch {
  mode: 'systemd';
  runtimeDir: string;
  /** The group that may connect (the flows' user's); null: the agent's own. */
  gid: number | null;
}

/** The socket the flows' unit connects to. */
export const socketPathIn = (runtimeDir: string): string => join(runtimeDir, 'flows.sock');

export class ChildLauncher {
  private server: Server | null = null;
  private waiting: LaunchHandlers | null = null;
  private current: Socket | null = null;

  constructor(
    private readonly how: SpawnLaunch | SystemdLaunch,
    private readonly logger: Logger,
  ) {}

  launch(h: LaunchHandlers): LaunchedChild {
    return this.how.mode === 'spawn' ? this.spawnChild(this.how, h) : this.awaitChild(h);
  }

  /** Stops listening (systemd mode). */
  close(): void {
    this.server?.close();
    this.server = null;
    this.current?.destroy();
    if (this.how.mode === 'systemd') rmSync(socketPathIn(this.how.runtimeDir), { force: true });
  }

  private spawnChild(how: SpawnLaunch, h: LaunchHandlers): LaunchedChild {
    // Said at once, by its path: else the child dies unable to load its code and the start only times out.
    if (how.user) assertCodeReachable(how.childPath, how.user);
    // A minimal environment: a flow's env.get() must not read the agent's secrets.
    const env: NodeJS.ProcessEnv = {};
    for (const k of ['PATH', 'TZ', 'LANG', 'NODE_ENV']) if (process.env[k] !== undefined) env[k] = process.env[k];
    env['HOME'] = how.userDir;
    const child: ChildProcess = spawn(
      process.execPath,
      [`--max-old-space-size=${how.memoryMb}`, how.childPath, '--channel-fd', '3', '--user-dir', '/proc/self/cwd'],
      {
        env,
        // libuv changes to cwd before it drops to uid/gid: the child reaches its userDir though it cannot traverse the data folder.
        cwd: how.userDir,
        ...(how.user ? { uid: how.user.uid, gid: how.user.gid } : {}),
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      },
    );
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (ended) return;
      ended = true;
      h.onExit(code, signal);
    };
    const log = this.logger.child({ childPid: child.pid });
    child.on('error', (err) => {
      log.error(failure('NODE_RED_FAILED', err), 'Node-RED child process error');
      // A child that never started (EAGAIN, EACCES, ENOENT) sends no exit: treat it as one.
      if (child.pid === undefined) end(null, null);
    });
    child.on('exit', (code, signal) => end(code, signal));
    if (child.pid !== undefined) {
      // On two cores a flow spinning forever, or Node-RED starting again, competes with the alarm path.
      try {
        setPriority(child.pid, CHILD_NICE);
      } catch (err) {
        log.warn(failure('NODE_RED_FAILED', err), 'Node-RED child priority not lowered');
      }
    }
    // Node-RED logs through the channel; whatever reaches stdout/stderr (a V8 out-of-memory report) is logged, a line at a time.
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('error', (err) => log.warn(failure('NODE_RED_FAILED', err), 'Node-RED child output stream error'));
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim()) log.warn(failure('NODE_RED_LOG'), line.slice(0, 500));
      });
    }
    const socket = child.stdio[3] as Socket | null | undefined;
    // After launch() has returned: the caller holds the handle before the socket arrives.
    if (socket) queueMicrotask(() => h.onSocket(socket));
    return {
      get pid() {
        return child.pid ?? null;
      },
      kill: () => void child.kill('SIGKILL'),
    };
  }

  private awaitChild(h: LaunchHandlers): LaunchedChild {
    this.listen();
    this.waiting = h;
    let socket: Socket | null = null;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (this.waiting === wrapped) this.waiting = null;
      h.onExit(null, null);
    };
    const wrapped: LaunchHandlers = {
      onSocket: (s) => {
        socket = s;
        s.on('close', end);
        h.onSocket(s);
      },
      onExit: end,
    };
    this.waiting = wrapped;
    return {
      pid: null,
      kill: () => (socket ? socket.destroy() : end()),
    };
  }

  private listen(): void {
    if (this.server || this.how.mode !== 'systemd') return;
    const { runtimeDir, gid } = this.how;
    mkdirSync(runtimeDir, { recursive: true, mode: 0o750 });
    const path = socketPathIn(runtimeDir);
    rmSync(path, { force: true }); // a stale socket from a killed agent
    const server = createServer((s) => {
      s.on('error', () => {});
      // One child at a time: a second connection (another process of the flows' user) is refused.
      if (!this.waiting || (this.current && !this.current.destroyed)) return void s.destroy();
      this.current = s;
      const h = this.waiting;
      this.waiting = null;
      h.onSocket(s);
    });
    server.on('error', (err) =>
      this.logger.error(failure('NODE_RED_FAILED', err, { path }), 'the flows channel socket failed'),
    );
    server.listen(path, () => {
      chmodSync(runtimeDir, 0o750);
      chmodSync(path, 0o660);
      // Without root this works when the agent is a member of the group (the shipped sysusers file makes it one).
      if (gid !== null)
        try {
          for (const p of [runtimeDir, path]) chownSync(p, process.getuid?.() ?? -1, gid);
        } catch (err) {
          this.logger.warn(
            failure('NODE_RED_FAILED', err, { gid }),
            "the flows' group could not be given the channel's socket",
          );
        }
    });
    this.server = server;
  }
}

/** spawn: started by the agent (as the flows' user when it is root); systemd: the flows' unit connects to its socket. */
export function launcherFor(
  config: Pick<NodeRedConfig, 'launch' | 'runtimeDir' | 'user' | 'memoryMb'>,
  dataDir: string,
  logger: Logger,
  childPath: string = defaultChildPath(),
): ChildLauncher {
  if (config.launch === 'systemd') {
    const runtimeDir = config.runtimeDir ?? join(dataDir, 'run');
    return new ChildLauncher({ mode: 'systemd', runtimeDir, gid: lookUpUser(config.user)?.gid ?? null }, logger);
  }
  const userDir = join(dataDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const user = flowsUser(config.user, logger);
  if (user) prepareUserDir(dataDir, userDir, user);
  return new ChildLauncher({ mode: 'spawn', childPath, userDir, memoryMb: config.memoryMb, user }, logger);
}
