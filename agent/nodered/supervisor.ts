/**
 * Runs Node-RED in a child process (dist/flows/runtime/child.js) so that no flow can delay an
 * alarm, and coordinates its parts: ChildSpawner starts a child and checks what it sends;
 * ChildWatch (heartbeat.ts) kills one that is not ready in time, stops answering or is over its
 * memory bound; SafeMode says in which mode each start runs (the config, a crash loop, a full
 * card). Events go to the child through ChildEventQueue (never awaited); a dead child is
 * restarted with backoff; requests from the flows go through FlowRequests.
 */
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import type { FromChild, ToChild } from '../../core/contracts/nodered-ipc.js';
import { failure } from '../../core/kernel/errors.js';
import { ChildMessages } from './child-messages.js';
import { ChildSpawner, type SpawnedChild } from './child-spawn.js';
import { ChildEventQueue } from './event-queue.js';
import { ChildWatch } from './heartbeat.js';
import { memoryBoundBytes } from './memory-bound.js';
import { LogBudget } from './log-budget.js';
import type { ChildLife, NodeRedReport, NodeRedState } from './report.js';
import { Restarts } from './restarts.js';
import { SafeMode, type SafeModeReason } from './safe-mode.js';
import type { SafeModeRecord } from './start-record.js';
import { timingsOf, type SupervisorOptions } from './supervisor-options.js';
import { RequestInbox } from './technician-requests.js';
import { ChildTimers } from './timers.js';

export type { ChildLife, NodeRedReport, NodeRedState } from './report.js';
export type { SupervisorOptions } from './supervisor-options.js';

export class NodeRedSupervisor {
  private child: SpawnedChild | null = null;
  private state: NodeRedState = 'stopped';
  private readonly queue: ChildEventQueue;
  private url: string | null = null;
  private lastStartMs: number | null = null;
  private readonly timers = new ChildTimers();
  private unsubscribe: (() => void) | null = null;
  private stopped: Promise<void> | null = null;
  private readonly restarts: Restarts;
  private readonly logBudget: LogBudget;
  private readonly messages: ChildMessages;
  private readonly inbox: RequestInbox;
  private readonly spawner: ChildSpawner;
  private readonly watch: ChildWatch;
  private readonly safe: SafeMode;
  private readonly lived: ChildLife = { ready: 0, pongsSinceReady: 0, crashes: 0, lastCrash: null };

  constructor(private readonly opts: SupervisorOptions) {
    const { config, dataDir, gatewayId, logger, wallMs, crashLoop } = opts;
    const monoMs = opts.monoMs ?? (() => performance.now());
    const logBudget = (this.logBudget = new LogBudget(logger, monoMs));
    this.queue = new ChildEventQueue(opts.queueSize ?? 1000, opts.maxEventAgeMs ?? 60_000, monoMs);
    const emit = (e: EventInput) => opts.ports.emit(e);
    this.restarts = new Restarts({ restart: opts.restart, gatewayId, logger, emit });
    this.safe = new SafeMode({ configured: config.safeMode, dataDir, gatewayId, logger, emit, wallMs, crashLoop });
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
    this.messages = new ChildMessages(opts, logBudget, monoMs);
    this.spawner = new ChildSpawner({ opts, logBudget, monoMs });
    this.watch = new ChildWatch(
      { boundBytes: memoryBoundBytes(config), monoMs, logger, ...timingsOf(opts) },
      {
        pid: () => this.pid,
        state: () => this.state,
        ping: (n) => this.send({ t: 'ping', n }),
        kill: () => this.child?.kill(),
      },
    );
  }

  start(): void {
    if (this.state !== 'stopped' || this.stopped) return;
    this.unsubscribe = this.opts.ports.onEvent((e) => this.enqueue(e));
    // A request filed while the agent was stopped (safe mode off, a new password) counts for this start.
    this.inbox.start();
    this.spawn(false);
  }

  /** Leaves a crash loop's safe mode (the county's command or the CLI); false when not in one. */
  leaveSafeMode(by: 'command' | 'cli'): boolean {
    if (!this.safe.leave(by)) return false;
    this.restartNow();
    return true;
  }

  /** A full card (the disk reserve out) stops the flows at once, editor up: a flow's files would take the alarms' room. */
  holdForDisk(on: boolean): void {
    if (!this.safe.holdForDisk(on)) return;
    if (on) this.watch.kill('requested');
    else this.restartNow();
  }

  /**
   * A county push wrote new flows while a crash loop (and nothing else) holds safe mode: safe mode
   * is left and the child restarts with them. Returns the safe mode left, which a rollback of the
   * push comes back to; null (nothing done) when not in that state.
   */
  leaveSafeModeForPush(): SafeModeRecord | null {
    const saved = this.safe.crashLoopEntered;
    if (!saved || this.safe.reasons.join() !== 'crash-loop' || !this.safe.leave('push')) return null;
    this.restartNow();
    return saved;
  }

  /** Why a start now would be in safe mode (none: with its flows). */
  safeModeReasons(): SafeModeReason[] {
    return this.safe.reasons;
  }

  /** A push that left safe mode was rolled back: back into it (restarting the child, unless it has not started yet). */
  returnToSafeMode(saved: SafeModeRecord, restart: boolean): void {
    this.safe.resume(saved);
    if (restart) this.restartNow();
  }

  /** A county push wrote new flows: the child restarts at once to run them (not counted as a crash). */
  restartForFlows(): void {
    this.restartNow();
  }

  /** What a flows push's probation judges. */
  life(): ChildLife {
    return { ...this.lived };
  }

  /** Restarts the child at once, not counted as a crash (a stop asked for, then a new start). */
  private restartNow(): void {
    if (this.stopped) return;
    const child = this.child;
    if (child) {
      this.watch.stopAsked();
      this.send({ t: 'stop' });
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
    const running = () => this.state === 'running';
    if (running()) this.queue.drainSoon(() => this.child?.channel ?? null, running);
  }

  private send(m: ToChild): void {
    // A ping or stop that cannot be sent shows up by itself: a missed pong, or the stop limit's kill.
    if (this.child?.channel && !this.child.send(m) && this.logBudget.take())
      this.opts.logger.warn(failure('NODE_RED_FAILED', null, { t: m.t }), 'message to the Node-RED child not sent');
  }

  /** `asked`: a restart the agent asked for (disk hold, leaving safe mode, new passwords), not counted toward a crash loop. */
  private spawn(asked: boolean): void {
    const safeMode = this.safe.forStart(asked);
    this.state = 'starting';
    this.watch.spawned();
    let child: SpawnedChild;
    const mine = () => child === this.child;
    try {
      child = this.spawner.spawn(safeMode, {
        onMessage: (m, log) => mine() && this.onMessage(m, log),
        onViolation: () => mine() && this.watch.kill('channel'),
        // The connection gone with the child still there a moment later (a flow closed it): it cannot be
        // talked to, so it goes. A child that died closes it too: its exit comes first and says why.
        onClose: () => this.timers.after(() => mine() && this.state !== 'stopping' && this.watch.kill('channel'), 1000),
        onDrain: () => this.schedulePump(),
        onExit: (code, signal) => mine() && this.onExit(code, signal),
      });
    } catch (err) {
      // Out of processes or memory: tried again later like after a crash, never thrown into a timer.
      this.state = 'restarting';
      this.timers.after(() => this.spawn(false), this.restarts.launchFailed(err));
      return;
    }
    this.child = child;
    this.watch.launched(this.timers);
  }

  private onMessage(m: FromChild, log: Logger): void {
    if (m.t === 'pong') return (this.lived.pongsSinceReady++, this.watch.pong(m.stats));
    if (m.t !== 'ready') return this.messages.handle(m, log, (reply) => this.send(reply));
    if (this.state !== 'starting') return; // said once per start; a repeat is a forgery
    this.state = 'running';
    this.url = m.url;
    this.lived.ready += 1;
    this.lived.pongsSinceReady = 0;
    const startMs = (this.lastStartMs = this.watch.ready(this.timers));
    log.info({ url: m.url, safeMode: m.safeMode, startMs }, 'Node-RED ready');
    const data = { url: m.url, safeMode: m.safeMode, startMs, restarts: this.restarts.count };
    this.opts.ports.emit({ deviceId: this.opts.gatewayId, type: 'nodered.started', priority: 'normal', data });
    this.schedulePump();
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = null;
    this.url = null;
    this.timers.clear();
    if (this.state === 'stopping' || this.stopped) {
      this.state = 'stopped';
      return;
    }
    this.state = 'restarting';
    const reason = this.watch.exitReason;
    if (reason === 'requested') {
      this.restarts.asked();
      return this.spawn(true);
    }
    this.safe.noteCrash(reason, code, signal);
    this.lived.crashes += 1;
    this.lived.lastCrash = { reason, code, signal };
    const delay = this.restarts.crashed(reason, code, signal, this.watch.ranLong);
    this.timers.after(() => this.spawn(false), delay);
  }

  /** Asks the child to stop, and kills it after limitMs. Idempotent. */
  stop(limitMs = 3000): Promise<void> {
    this.stopped ??= (async () => {
      this.inbox.stop();
      this.unsubscribe?.();
      this.unsubscribe = null;
      this.queue.clear();
      this.timers.clear();
      const child = this.child;
      if (child) {
        this.state = 'stopping';
        this.send({ t: 'stop' });
        await child.stopWithin(limitMs, this.opts.logger);
      }
      this.state = 'stopped';
    })();
    void this.stopped.then(() => this.spawner.close());
    return this.stopped;
  }

  /** The child's pid (tests kill it). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  describe(): NodeRedReport {
    const { queue, watch, safe } = this;
    const { requests, refused, excludedNodes, loginFailures } = this.messages.describe();
    return {
      state: this.state,
      pid: this.pid,
      url: this.url,
      restarts: this.restarts.count,
      dropped: queue.dropped,
      queued: queue.length,
      sent: queue.sent,
      safeMode: safe.on,
      crashLoop: safe.crashLoop,
      rssBytes: watch.rssBytes,
      violations: this.spawner.violations,
      childEvents: watch.childEvents,
      requests,
      refused,
      lastStartMs: this.lastStartMs,
      excludedNodes,
      loginFailures,
    };
  }
}
