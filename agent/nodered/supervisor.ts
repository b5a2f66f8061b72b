/**
 * Runs Node-RED in a child process (dist/flows/runtime/child.js; started by ChildLauncher, talked
 * to over ChildChannel's bounded frames) so that no flow can delay an alarm: events go to it
 * through ChildEventQueue (never awaited); a heartbeat kills a child that stops answering or
 * whose RSS is over its bound (heartbeat.ts); a dead child is
 * restarted with backoff; crash-loop.ts says when it runs in safe mode (flows stopped) and
 * `nodered.crash_loop` is raised, until a technician leaves it. Requests from the flows go
 * through FlowRequests.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import type { ChildOptions, FromChild, ToChild } from '../../core/contracts/nodered-ipc.js';
import { Backoff } from '../../core/kernel/backoff.js';
import { failure } from '../../core/kernel/errors.js';
import { ChildChannel } from './channel.js';
import { launcherFor, type ChildLauncher, type LaunchedChild } from './child-launcher.js';
import { childOptions } from './child-options.js';
import { CrashLoop } from './crash-loop.js';
import { ChildEventQueue } from './event-queue.js';
import { judgeChild } from './heartbeat.js';
import { memoryBoundBytes } from './memory-bound.js';
import { noteExcludedNodes, type ExcludedNodesSummary } from './excluded-nodes.js';
import { LogBudget } from './log-budget.js';
import { LoginWatch } from './login-watch.js';
import { FlowRequests } from './requests.js';
import type { NodeRedReport, NodeRedState } from './report.js';
import { timingsOf, type SupervisorOptions } from './supervisor-options.js';
import { RequestInbox } from './technician-requests.js';
import { ChildTimers } from './timers.js';

export type { NodeRedReport, NodeRedState } from './report.js';
export type { SupervisorOptions } from './supervisor-options.js';

/** A child that ran this long was not crashing: its restart waits the shortest time again. */
const BACKOFF_RESET_MS = 60_000;

type KillReason = 'heartbeat' | 'start-timeout' | 'memory' | 'channel' | 'requested';

export class NodeRedSupervisor {
  private child: LaunchedChild | null = null;
  private channel: ChildChannel | null = null;
  private readonly launcher: ChildLauncher;
  private readonly memoryBound: number;
  private violations = 0;
  private state: NodeRedState = 'stopped';
  private readonly queue: ChildEventQueue;
  private pumpScheduled = false;
  private restarts = 0;
  private safeMode = false;
  private diskHold = false;
  private url: string | null = null;
  private rssBytes: number | null = null;
  private childEvents: number | null = null;
  private requests = 0;
  private lastStartMs: number | null = null;
  private excludedNodes: ExcludedNodesSummary | null = null;
  private spawnedAt = 0;
  private lastPong = 0;
  private pingN = 0;
  private killReason: KillReason | null = null;
  private readonly timers = new ChildTimers();
  private unsubscribe: (() => void) | null = null;
  private stopped: Promise<void> | null = null;
  private onStopped: (() => void) | null = null;
  private readonly backoff: Backoff;
  private readonly requestsHandler: FlowRequests;
  private readonly monoMs: () => number;
  private readonly logBudget: LogBudget;
  private readonly loop: CrashLoop;
  private readonly logins: LoginWatch;
  private readonly inbox: RequestInbox;
  /** Messages from the child that failed their check or their handling (forged by a flow, or a bug). */
  private badMessages = 0;
  private readonly o: ReturnType<typeof timingsOf>;

  constructor(private readonly opts: SupervisorOptions) {
    this.monoMs = opts.monoMs ?? (() => performance.now());
    this.logBudget = new LogBudget(opts.logger, this.monoMs);
    this.queue = new ChildEventQueue(opts.queueSize ?? 1000, opts.maxEventAgeMs ?? 60_000, this.monoMs);
    this.o = timingsOf(opts);
    const r = opts.restart ?? { minMs: 1000, maxMs: 60_000 };
    this.backoff = new Backoff(r.minMs, r.maxMs, 0.2);
    const { dataDir, gatewayId, logger, wallMs } = opts;
    const emit = (e: EventInput) => opts.ports.emit(e);
    // crash-loop.json lies beside the child's userDir, not in it: that is the flows' user's, who could plant a symlink where the agent writes.
    this.loop = new CrashLoop({ dataDir, gatewayId, logger, emit, wallMs }, opts.crashLoop);
    this.logins = new LoginWatch(logger, gatewayId, emit, this.monoMs);
    this.inbox = new RequestInbox(
      dataDir,
      {
        'safe-mode-off': () =>
          void (this.leaveSafeMode('cli') || logger.warn(failure('NOT_IN_SAFE_MODE'), 'not in safe mode')),
        unlock: () => this.send({ t: 'unlock' }),
        password: () => this.restartNow(), // the child takes its users at start
      },
      logger,
    );
    this.requestsHandler = new FlowRequests(opts);
    this.memoryBound = memoryBoundBytes(opts.config);
    this.launcher = launcherFor(opts.config, opts.dataDir, opts.logger, opts.childPath);
  }

  start(): void {
    if (this.state !== 'stopped' || this.stopped) return;
    this.unsubscribe = this.opts.ports.onEvent((e) => this.enqueue(e));
    // A request filed while the agent was stopped (safe mode off, a new password) counts for this start.
    this.inbox.start();
    this.spawn();
  }

  /** Leaves a crash loop's safe mode (the county's command or the CLI); false when not in one. */
  leaveSafeMode(by: 'command' | 'cli'): boolean {
    if (!this.loop.leave(by)) return false;
    this.restartNow();
    return true;
  }

  /** A full card (the disk reserve out) stops the flows at once, editor up: a flow's files would take the alarms' room. */
  holdForDisk(on: boolean): void {
    if (this.diskHold === on) return;
    this.diskHold = on;
    if (on) this.opts.logger.warn(failure('DISK_FULL'), 'disk reserve out (card full): flows stopped');
    else this.opts.logger.info('disk reserve back: flows start');
    if (on) this.kill('requested');
    else this.restartNow();
  }

  /** Restarts the child at once, not counted as a crash (a stop asked for, then a new start). */
  private restartNow(): void {
    if (this.stopped) return;
    if (this.child) {
      this.killReason = 'requested';
      this.send({ t: 'stop' });
      const child = this.child;
      this.timers.after(() => child.kill(), 5000);
    } else if (this.state === 'restarting') {
      this.timers.clear();
      this.spawn(true);
    }
  }

  /** Synchronous and cheap: the alarm path calls this for every event. */
  private enqueue(event: GatewayEvent): void {
    this.queue.push(event, this.opts.tagsOf(event.deviceId));
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.state !== 'running') return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.channel) this.queue.drain(this.channel, () => this.state === 'running');
  }

  private send(m: ToChild): void {
    // A ping or stop that cannot be sent shows up by itself: a missed pong, or the stop limit's kill.
    if (this.channel?.send(m) === false && this.logBudget.take())
      this.opts.logger.warn(failure('NODE_RED_FAILED', null, { t: m.t }), 'message to the Node-RED child not sent');
  }

  /** `asked`: a restart the agent asked for (disk hold, leaving safe mode, new passwords), not counted as a start of a crash loop. */
  private spawn(asked = false): void {
    const { config, logger } = this.opts;
    const now = this.monoMs();
    if (!asked) this.loop.noteStart();
    this.safeMode = config.safeMode || this.loop.active || this.diskHold;
    const options = childOptions(this.opts, this.safeMode, logger);
    this.state = 'starting';
    this.spawnedAt = now;
    this.killReason = null;
    this.rssBytes = null;
    let child: LaunchedChild | null = null;
    try {
      child = this.launcher.launch({
        onSocket: (socket) => this.attach(socket, child!, options),
        onExit: (code, signal) => {
          if (child === this.child) this.channel?.destroy();
          this.onExit(child!, code, signal);
        },
      });
    } catch (err) {
      // Out of processes or memory: try again later like after a crash, never throw into a timer.
      logger.error(failure('NODE_RED_FAILED', err), 'Node-RED child could not be started');
      this.state = 'restarting';
      this.restarts += 1;
      this.timers.after(() => this.spawn(), this.backoff.next());
      return;
    }
    this.child = child;
    this.timers.after(() => {
      if (child === this.child && this.state === 'starting') this.kill('start-timeout');
    }, this.o.startTimeoutMs);
  }

  /** The child's socket: the options go first (secrets included: never its environment or command line). */
  private attach(socket: Socket, child: LaunchedChild, options: ChildOptions): void {
    const log = this.opts.logger.child({ childPid: child.pid });
    const mine = (): boolean => child === this.child;
    this.channel = new ChildChannel(
      socket,
      {
        onMessage: (m) => {
          if (!mine()) return;
          try {
            this.onMessage(m, log);
          } catch (err) {
            this.badMessages += 1;
            if (this.logBudget.take())
              log.error(failure('NODE_RED_FAILED', err), 'a message from the Node-RED child failed: ignored');
          }
        },
        // A flow may forge messages (it reaches the socket through the process' handles): counted, ignored.
        onMalformed: () => {
          this.badMessages += 1;
          if (this.logBudget.take())
            log.warn(failure('CHANNEL_FRAME', null, { badMessages: this.badMessages }), 'malformed message: ignored');
        },
        onViolation: (err) => {
          this.violations += 1;
          if (this.logBudget.take())
            log.error(failure('CHANNEL_FRAME', err, { violations: this.violations }), 'channel broken: killed');
          if (mine()) this.kill('channel');
        },
        // The connection gone with the child still there a moment later (a flow closed it): it cannot be
        // talked to, so it goes. A child that died closes it too: its exit comes first and says why.
        onClose: () => this.timers.after(() => mine() && this.state !== 'stopping' && this.kill('channel'), 1000),
        onDrain: () => this.schedulePump(),
      },
      this.opts.channelLimits,
      this.monoMs,
    );
    if (!this.channel.send({ t: 'init', options })) log.error(failure('NODE_RED_FAILED'), 'options not sent');
  }

  private onMessage(m: FromChild, log: Logger): void {
    switch (m.t) {
      case 'ready': {
        if (this.state !== 'starting') return; // said once per start; a repeat is a forgery
        this.state = 'running';
        this.url = m.url;
        this.lastPong = this.monoMs();
        this.lastStartMs = Math.round(this.lastPong - this.spawnedAt);
        log.info({ url: m.url, safeMode: m.safeMode, startMs: this.lastStartMs }, 'Node-RED ready');
        this.opts.ports.emit({
          deviceId: this.opts.gatewayId,
          type: 'nodered.started',
          priority: 'normal',
          data: { url: m.url, safeMode: m.safeMode, startMs: this.lastStartMs, restarts: this.restarts },
        });
        this.timers.every(() => this.heartbeat(), this.o.pingMs);
        this.schedulePump();
        return;
      }
      case 'pong':
        this.lastPong = this.monoMs();
        if (this.child?.pid === null) this.rssBytes = m.stats.rssBytes; // systemd: the unit's MemoryMax bounds it
        this.childEvents = m.stats.events;
        return;
      case 'request':
        this.requests += 1;
        this.requestsHandler.answer(
          m,
          (reply) => this.send(reply),
          (err) =>
            this.logBudget.take() && log.warn(failure('FAILED', err, { kind: m.kind }), 'a flow request was refused'),
        );
        return;
      case 'log':
        // A flow may log in a loop (node.warn): the agent's log on the SD card gets a budget.
        this.logBudget.relay(log, m);
        return;
      case 'login_failed':
        this.logins.note(m.failure);
        return;
      case 'nodes_excluded':
        this.excludedNodes = noteExcludedNodes(m, this.opts.gatewayId, this.opts.ports.emit, log);
        return;
    }
  }

  private heartbeat(): void {
    if (this.state !== 'running') return;
    const pid = this.child?.pid ?? null;
    const v = judgeChild(pid, this.memoryBound, this.monoMs() - this.lastPong, this.o.pongTimeoutMs);
    if (v.rssBytes !== null) this.rssBytes = v.rssBytes;
    if (v.kill) {
      this.opts.logger.error(failure('NODE_RED_FAILED', null, v.why), v.msg);
      return this.kill(v.kill);
    }
    this.pingN += 1;
    this.send({ t: 'ping', n: this.pingN });
  }

  private kill(reason: KillReason): void {
    this.killReason ??= reason;
    this.child?.kill();
  }

  private onExit(child: LaunchedChild, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = null;
    this.channel = null;
    this.url = null;
    this.timers.clear();
    if (this.state === 'stopping' || this.stopped) {
      this.state = 'stopped';
      this.onStopped?.();
      return;
    }
    const { logger, gatewayId } = this.opts;
    this.restarts += 1;
    if (this.killReason === 'requested') {
      this.backoff.reset();
      this.state = 'restarting';
      this.spawn(true);
      return;
    }
    // A child that ran a good while was not crashing: start again from the shortest wait.
    if (this.monoMs() - this.spawnedAt > BACKOFF_RESET_MS) this.backoff.reset();
    const reason = this.killReason ?? 'exit';
    this.loop.noteExit(reason, code, signal);
    const delay = this.backoff.next();
    logger.warn(failure('NODE_RED_FAILED', null, { exit: code, signal, reason, restartInMs: delay }), 'child stopped');
    this.opts.ports.emit({
      deviceId: gatewayId,
      type: 'nodered.stopped',
      priority: 'high',
      data: { reason, code, signal, restartInMs: delay, restarts: this.restarts },
    });
    this.state = 'restarting';
    this.timers.after(() => this.spawn(), delay);
  }

  /** Asks the child to stop, and kills it after limitMs. Idempotent. */
  stop(limitMs = 3000): Promise<void> {
    this.stopped ??= new Promise<void>((resolveStop) => {
      this.inbox.stop();
      this.unsubscribe?.();
      this.unsubscribe = null;
      this.queue.clear();
      this.timers.clear();
      const child = this.child;
      if (!child) {
        this.state = 'stopped';
        return resolveStop();
      }
      this.state = 'stopping';
      const kill = setTimeout(() => {
        this.opts.logger.warn(failure('TIMEOUT', null, { limitMs }), 'Node-RED did not stop in time: killed');
        child.kill();
        // Bounded even if no exit ever comes (a child that never really started).
        setTimeout(() => {
          this.state = 'stopped';
          resolveStop();
        }, 500).unref();
      }, limitMs);
      this.onStopped = () => {
        clearTimeout(kill);
        resolveStop();
      };
      this.send({ t: 'stop' });
    });
    void this.stopped.then(() => this.launcher.close());
    return this.stopped;
  }

  /** The child's pid (tests kill it). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  describe(): NodeRedReport {
    return {
      state: this.state,
      pid: this.pid,
      url: this.url,
      restarts: this.restarts,
      dropped: this.queue.dropped,
      queued: this.queue.length,
      sent: this.queue.sent,
      safeMode: this.safeMode,
      crashLoop: this.loop.active,
      rssBytes: this.rssBytes,
      violations: this.violations,
      childEvents: this.childEvents,
      requests: this.requests,
      refused: this.requestsHandler.refused,
      lastStartMs: this.lastStartMs,
      excludedNodes: this.excludedNodes,
      loginFailures: this.logins.failures,
    };
  }
}
