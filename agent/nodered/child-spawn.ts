/**
 * Starting one Node-RED child: launched (ChildLauncher), its socket taken as a ChildChannel, and
 * its options sent as the first frame (secrets included: never its environment or command line).
 * What the child sends is checked and counted here (a flow may forge or flood messages: it reaches
 * the socket through the process' handles); what the messages mean is the supervisor's.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ChildOptions, FromChild, ToChild } from '../../core/contracts/nodered-ipc.js';
import { failure } from '../../core/kernel/errors.js';
import { ChildChannel } from './channel.js';
import { launcherFor, type ChildLauncher, type LaunchedChild } from './child-launcher.js';
import { childOptions } from './child-options.js';
import type { LogBudget } from './log-budget.js';
import type { SupervisorOptions } from './supervisor-options.js';

/** What one child's life tells its supervisor. */
export interface SpawnHandlers {
  /** A checked message; one that throws is counted as a bad message and ignored. */
  onMessage(m: FromChild, log: Logger): void;
  /** Its channel broke (a frame over the limit, a body not JSON): it cannot be talked to. */
  onViolation(): void;
  /** Its connection ended (either side); once. */
  onClose(): void;
  /** Room again to send. */
  onDrain(): void;
  /** Once, however it ended; its channel is closed by then. */
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

/** A child started: its channel comes when its socket does. */
export interface SpawnedChild {
  readonly pid: number | null;
  readonly channel: ChildChannel | null;
  /** Writes one message; false when not sent (no channel yet, closed, over the frame limit). */
  send(m: ToChild): boolean;
  kill(): void;
  /** After a stop was asked for: its exit, or a kill at limitMs and, in any case, 500 ms later. */
  stopWithin(limitMs: number, logger: Logger): Promise<void>;
}

class Child implements SpawnedChild {
  channel: ChildChannel | null = null;
  launched: LaunchedChild | null = null;
  exited!: () => void;
  private readonly exit = new Promise<void>((resolve) => (this.exited = resolve));

  get pid(): number | null {
    return this.launched?.pid ?? null;
  }

  send(m: ToChild): boolean {
    return this.channel?.send(m) ?? false;
  }

  kill(): void {
    this.launched?.kill();
  }

  async stopWithin(limitMs: number, logger: Logger): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logger.warn(failure('TIMEOUT', null, { limitMs }), 'Node-RED did not stop in time: killed');
        this.kill();
        // Bounded even if no exit ever comes (a child that never really started).
        setTimeout(resolve, 500).unref();
      }, limitMs);
    });
    await Promise.race([this.exit, late]);
    clearTimeout(timer);
  }
}

export interface SpawnerOptions {
  opts: SupervisorOptions;
  /** The supervisor's budget for log lines the child's behaviour causes. */
  logBudget: LogBudget;
  monoMs: () => number;
}

export class ChildSpawner {
  private readonly launcher: ChildLauncher;
  /** Broken channels, over every child's life. */
  violations = 0;
  /** Messages that failed their check or their handling (forged by a flow, or a bug). */
  badMessages = 0;

  constructor(private readonly o: SpawnerOptions) {
    const { config, dataDir, logger, childPath } = o.opts;
    this.launcher = launcherFor(config, dataDir, logger, childPath);
  }

  /** Starts a child in the given mode; throws when it cannot be (out of processes or memory). */
  spawn(safeMode: boolean, h: SpawnHandlers): SpawnedChild {
    const { opts } = this.o;
    const options = childOptions(opts, safeMode, opts.logger);
    const child = new Child();
    child.launched = this.launcher.launch({
      onSocket: (socket) => this.attach(child, socket, options, h),
      onExit: (code, signal) => {
        child.channel?.destroy();
        child.exited();
        h.onExit(code, signal);
      },
    });
    return child;
  }

  /** Stops listening for the flows' unit (launch: systemd); after the last child. */
  close(): void {
    this.launcher.close();
  }

  private attach(child: Child, socket: Socket, options: ChildOptions, h: SpawnHandlers): void {
    const log = this.o.opts.logger.child({ childPid: child.pid });
    const budget = this.o.logBudget;
    child.channel = new ChildChannel(
      socket,
      {
        onMessage: (m) => {
          try {
            h.onMessage(m, log);
          } catch (err) {
            this.badMessages += 1;
            if (budget.take())
              log.error(failure('NODE_RED_FAILED', err), 'a message from the Node-RED child failed: ignored');
          }
        },
        onMalformed: () => {
          this.badMessages += 1;
          if (budget.take())
            log.warn(failure('CHANNEL_FRAME', null, { badMessages: this.badMessages }), 'malformed message: ignored');
        },
        onViolation: (err) => {
          this.violations += 1;
          if (budget.take())
            log.error(failure('CHANNEL_FRAME', err, { violations: this.violations }), 'channel broken: killed');
          h.onViolation();
        },
        onClose: () => h.onClose(),
        onDrain: () => h.onDrain(),
      },
      this.o.opts.channelLimits,
      this.o.monoMs,
    );
    if (!child.channel.send({ t: 'init', options })) log.error(failure('NODE_RED_FAILED'), 'options not sent');
  }
}
