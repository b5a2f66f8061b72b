/**
 * Runs Node-RED in a child process (dist/flows/runtime/child.js; started by ChildLauncher, talked
 * to over ChildChannel's bounded frames) so that no flow can delay an alarm: events go to it through a bounded queue fed synchronously from the bus (the
 * oldest dropped and counted when it is slow or not ready, never awaited); a heartbeat kills
 * a child that stops answering or whose RSS is over its bound (memory-bound.ts); a dead child is
 * restarted with backoff; crash-loop.ts says when it runs in safe mode (flows stopped) and
 * `nodered.crash_loop` is raised, until a technician leaves it. Requests from the flows go
 * through FlowRequests.
 */
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../contracts/event.js';
import type { ChildOptions, FromChild, ToChild } from '../contracts/nodered-ipc.js';
import { Backoff } from '../kernel/backoff.js';
import { errorMessage, replyCode } from '../kernel/errors.js';
import { ChildChannel } from './channel.js';
import { launcherFor, type ChildLauncher, type LaunchedChild } from './child-launcher.js';
import { shippedDefaultFlows } from './child-files.js';
import { CrashLoop } from './crash-loop.js';
import { editorUsers } from './editor-passwords.js';
import { memoryBoundBytes, readRssBytes } from './memory-bound.js';
import { noteExcludedNodes, type ExcludedNodesSummary } from './excluded-nodes.js';
import { LogBudget } from './log-budget.js';
import { LoginWatch } from './login-watch.js';
import { FlowRequests } from './requests.js';
import type { NodeRedReport, NodeRedState } from './report.js';
import type { SupervisorOptions } from './supervisor-options.js';
import { RequestInbox } from './technician-requests.js';

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
  private readonly queue: { msg: { t: 'event'; event: GatewayEvent; tags: string[] }; at: number }[] = [];
  private pumpScheduled = false;
  private dropped = 0;
  private sent = 0;
  private restarts = 0;
  private safeMode = false;
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
  private timers = new Set<NodeJS.Timeout>();
  private pingTimer: NodeJS.Timeout | null = null;
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
  private readonly o: Required<
    Pick<SupervisorOptions, 'queueSize' | 'maxEventAgeMs' | 'pingMs' | 'pongTimeoutMs' | 'startTimeoutMs'>
  >;

  constructor(private readonly opts: SupervisorOptions) {
    this.monoMs = opts.monoMs ?? (() => performance.now());
    this.logBudget = new LogBudget(opts.logger, this.monoMs);
    this.o = {
      queueSize: opts.queueSize ?? 1000,
      maxEventAgeMs: opts.maxEventAgeMs ?? 60_000,
      pingMs: opts.pingMs ?? 5000,
      pongTimeoutMs: opts.pongTimeoutMs ?? 15_000,
      startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    };
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
          void (this.leaveSafeMode('cli') || logger.warn('safe mode off asked: not in a crash loop')),
        unlock: () => this.send({ t: 'unlock' }),
        password: () => this.restartNow(), // the child takes its users at start
      },
      logger,
    );
    this.requestsHandler = new FlowRequests(opts.gatewayId, opts.flowWritable, opts.ports, opts.limits);
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

  /** Restarts the child at once, not counted as a crash (a stop asked for, then a new start). */
  private restartNow(): void {
    if (this.stopped) return;
    if (this.child) {
      this.killReason = 'requested';
      this.send({ t: 'stop' });
      const child = this.child;
      this.timer(() => child.kill(), 5000);
    } else if (this.state === 'restarting') {
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      this.spawn();
    }
  }

  /** Synchronous and cheap: the alarm path calls this for every event. */
  private enqueue(event: GatewayEvent): void {
    if (this.queue.length >= this.o.queueSize) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.queue.push({ msg: { t: 'event', event, tags: this.opts.tagsOf(event.deviceId) }, at: this.monoMs() });
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

  /** Sends while the socket takes it (its 'drain' calls again): a stuck child holds at most SEND_HIGH_WATER of ours. */
  private pump(): void {
    const channel = this.channel;
    while (this.state === 'running' && channel?.writable && this.queue.length > 0) {
      const { msg, at } = this.queue.shift()!;
      // Too old, over the frame limit or not serialisable (a BigInt, a cycle): counted as dropped.
      if (this.monoMs() - at > this.o.maxEventAgeMs || !channel.send(msg)) this.dropped += 1;
      else this.sent += 1;
    }
  }

  private send(m: ToChild): void {
    // A ping or stop that cannot be sent shows up by itself: a missed pong, or the stop limit's kill.
    if (this.channel?.send(m) === false && this.logBudget.take())
      this.opts.logger.warn({ t: m.t }, 'message to the Node-RED child not sent');
  }

  private spawn(): void {
    const { config, logger } = this.opts;
    const now = this.monoMs();
    this.loop.noteStart();
    this.safeMode = config.safeMode || this.loop.active;
    const options: ChildOptions = {
      userDir: join(this.opts.dataDir, 'node-red'),
      flowFile: config.flowFile,
      host: config.host,
      port: config.port,
      credentialSecret: config.credentialSecret,
      users: editorUsers(config.users, this.opts.dataDir, (err) =>
        logger.error({ err: errorMessage(err) }, "reset editor passwords unreadable: the config's apply"),
      ),
      safeMode: this.safeMode,
      httpNodeRoot: config.httpNodeRoot,
      nodesDir: this.opts.nodesDir ?? null,
      defaultFlows:
        this.opts.defaultFlows !== undefined
          ? this.opts.defaultFlows
          : this.opts.nodesDir
            ? null
            : shippedDefaultFlows(),
      logLevel: this.opts.logLevel ?? 'info',
      allowNodes: config.allowNodes,
    };
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
      logger.error({ err: errorMessage(err) }, 'Node-RED child could not be started');
      this.state = 'restarting';
      this.restarts += 1;
      this.timer(() => this.spawn(), this.backoff.next());
      return;
    }
    this.child = child;
    this.timer(() => {
      if (child === this.child && this.state === 'starting') this.kill('start-timeout');
    }, this.o.startTimeoutMs);
  }

  /** The child's socket: the options go first (secrets included: never its environment or command line). */
  private attach(socket: Socket, child: LaunchedChild, options: ChildOptions): void {
    const log = this.opts.logger.child({ part: 'node-red', pid: child.pid });
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
              log.error({ err: errorMessage(err) }, 'a message from the Node-RED child failed: ignored');
          }
        },
        // A flow may forge messages (it reaches the socket through the process' handles): counted, ignored.
        onMalformed: () => {
          this.badMessages += 1;
          if (this.logBudget.take())
            log.warn({ badMessages: this.badMessages }, 'Node-RED child sent a malformed message: ignored');
        },
        onViolation: (err) => {
          this.violations += 1;
          if (this.logBudget.take())
            log.error({ err: err.message, violations: this.violations }, 'Node-RED child broke the channel: killed');
          if (mine()) this.kill('channel');
        },
        // The connection gone with the child still there a moment later (a flow closed it): it cannot be
        // talked to, so it goes. A child that died closes it too: its exit comes first and says why.
        onClose: () => this.timer(() => mine() && this.state !== 'stopping' && this.kill('channel'), 1000),
        onDrain: () => this.schedulePump(),
      },
      this.opts.channelLimits,
      this.monoMs,
    );
    if (!this.channel.send({ t: 'init', options })) log.error('Node-RED child did not take its options');
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
        this.pingTimer = setInterval(() => this.heartbeat(), this.o.pingMs);
        this.schedulePump();
        return;
      }
      case 'pong':
        this.lastPong = this.monoMs();
        if (this.child?.pid === null) this.rssBytes = m.stats.rssBytes; // systemd: the unit's MemoryMax bounds it
        this.childEvents = m.stats.events;
        return;
      case 'request': {
        this.requests += 1;
        const id = m.id;
        this.requestsHandler.handle(m.kind, m.args).then(
          (result) => this.send({ t: 'reply', id, ok: true, result: result ?? null }),
          (err: unknown) => {
            if (this.logBudget.take())
              log.warn({ kind: m.kind, err: errorMessage(err).slice(0, 300) }, 'a flow request was refused');
            this.send({ t: 'reply', id, ok: false, error: { code: replyCode(err), message: errorMessage(err) } });
          },
        );
        return;
      }
      case 'log':
        // A flow may log in a loop (node.warn): the agent's log on the SD card gets a budget.
        if (this.logBudget.take()) log[m.level in log ? m.level : 'info'](String(m.msg).slice(0, 1000));
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
    // Sampled here, not taken from the pong: a stuck child sends none, and Buffers live outside V8's heap.
    const rss = this.child?.pid ? readRssBytes(this.child.pid) : null;
    if (rss !== null) this.rssBytes = rss;
    if (rss !== null && rss > this.memoryBound) {
      this.opts.logger.error({ rssBytes: rss, boundBytes: this.memoryBound }, 'Node-RED over its memory bound: killed');
      this.kill('memory');
      return;
    }
    if (this.monoMs() - this.lastPong > this.o.pongTimeoutMs) {
      this.opts.logger.error(
        { silentMs: Math.round(this.monoMs() - this.lastPong) },
        'Node-RED stopped answering: killed',
      );
      this.kill('heartbeat');
      return;
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
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    for (const t of this.timers) clearTimeout(t);
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
      this.spawn();
      return;
    }
    // A child that ran a good while was not crashing: start again from the shortest wait.
    if (this.monoMs() - this.spawnedAt > BACKOFF_RESET_MS) this.backoff.reset();
    const reason = this.killReason ?? 'exit';
    this.loop.noteExit(reason, code, signal);
    const delay = this.backoff.next();
    logger.warn({ code, signal, reason, restartInMs: delay }, 'Node-RED stopped: restarting');
    this.opts.ports.emit({
      deviceId: gatewayId,
      type: 'nodered.stopped',
      priority: 'high',
      data: { reason, code, signal, restartInMs: delay, restarts: this.restarts },
    });
    this.state = 'restarting';
    this.timer(() => this.spawn(), delay);
  }

  private timer(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Asks the child to stop, and kills it after limitMs. Idempotent. */
  stop(limitMs = 3000): Promise<void> {
    this.stopped ??= new Promise<void>((resolveStop) => {
      this.inbox.stop();
      this.unsubscribe?.();
      this.unsubscribe = null;
      this.queue.length = 0;
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      const child = this.child;
      if (!child) {
        this.state = 'stopped';
        return resolveStop();
      }
      this.state = 'stopping';
      const kill = setTimeout(() => {
        this.opts.logger.warn({ limitMs }, 'Node-RED did not stop in time: killed');
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
      dropped: this.dropped,
      queued: this.queue.length,
      sent: this.sent,
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
