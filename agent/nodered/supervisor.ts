/**
 * Runs Node-RED in a fork()ed child (dist/flows/runtime/child.js) so that no flow can delay
 * an alarm: events go to it through a bounded queue fed synchronously from the bus (the
 * oldest dropped and counted when it is slow or not ready, never awaited); a heartbeat kills
 * a child that stops answering; a dead child is restarted with backoff; crash-loop.ts says
 * when it runs in safe mode (flows stopped) and `nodered.crash_loop` is raised, until a
 * technician leaves it. Requests from the flows go through FlowRequests.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../contracts/event.js';
import { isFromChild, type ChildOptions, type FromChild, type ToChild } from '../contracts/nodered-ipc.js';
import { Backoff } from '../kernel/backoff.js';
import { errorMessage, replyCode } from '../kernel/errors.js';
import { defaultChildPath, shippedDefaultFlows } from './child-files.js';
import { CrashLoop } from './crash-loop.js';
import { editorUsers } from './editor-passwords.js';
import { LogBudget } from './log-budget.js';
import { LoginWatch } from './login-watch.js';
import { FlowRequests } from './requests.js';
import type { NodeRedReport, NodeRedState, SupervisorOptions } from './supervisor-options.js';
import { RequestInbox } from './technician-requests.js';

export type { NodeRedReport, NodeRedState, SupervisorOptions } from './supervisor-options.js';

/** Sends at most this many events the child has not taken off the pipe yet. */
const IN_FLIGHT = 64;
/** The child's nice value: below the agent (0), so the alarm path wins the CPU. */
const CHILD_NICE = 10;
/** A child that ran this long was not crashing: its restart waits the shortest time again. */
const BACKOFF_RESET_MS = 60_000;

export class NodeRedSupervisor {
  private child: ChildProcess | null = null;
  private state: NodeRedState = 'stopped';
  private readonly queue: { msg: { t: 'event'; event: GatewayEvent; tags: string[] }; at: number }[] = [];
  private inflight = 0;
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
  private spawnedAt = 0;
  private lastPong = 0;
  private pingN = 0;
  private killReason: 'heartbeat' | 'start-timeout' | 'requested' | null = null;
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
      this.timer(() => child.kill('SIGKILL'), 5000);
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

  private pump(): void {
    const child = this.child;
    while (this.state === 'running' && child?.connected && this.inflight < IN_FLIGHT && this.queue.length > 0) {
      const { msg, at } = this.queue.shift()!;
      if (this.monoMs() - at > this.o.maxEventAgeMs) {
        this.dropped += 1;
        continue;
      }
      this.inflight += 1;
      this.sent += 1;
      try {
        child.send(msg, (err) => {
          this.inflight -= 1;
          if (err) this.dropped += 1;
          else this.schedulePump();
        });
      } catch {
        // An event that cannot be serialised (a BigInt, a cycle) is not sent: counted as dropped.
        this.inflight -= 1;
        this.dropped += 1;
      }
    }
  }

  private send(m: ToChild): void {
    // A ping or stop that cannot be sent shows up by itself: a missed pong, or the stop limit's kill.
    if (!this.child?.connected) return;
    try {
      this.child.send(m, () => {});
    } catch (err) {
      if (this.logBudget.take())
        this.opts.logger.warn({ err: errorMessage(err), t: m.t }, 'message to the Node-RED child not sent');
    }
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
    };
    // A minimal environment: a flow's env.get() must not read the agent's secrets.
    const env: NodeJS.ProcessEnv = {};
    for (const k of ['PATH', 'HOME', 'TZ', 'LANG', 'NODE_ENV'])
      if (process.env[k] !== undefined) env[k] = process.env[k];
    this.state = 'starting';
    this.spawnedAt = now;
    this.killReason = null;
    this.inflight = 0;
    let child: ChildProcess;
    try {
      child = fork(this.opts.childPath ?? defaultChildPath(), [], {
        env,
        execArgv: [`--max-old-space-size=${config.memoryMb}`],
        serialization: 'json',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
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
    const childLog = logger.child({ part: 'node-red', pid: child.pid });
    // On two cores a flow spinning forever, or Node-RED starting again (bcrypt, loading modules),
    // competes with the alarm path: the child runs at a lower scheduling priority (nice 10), so
    // the agent gets the CPU first whenever both want it.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, CHILD_NICE);
      } catch (err) {
        childLog.warn({ err: errorMessage(err) }, 'Node-RED child priority not lowered');
      }
    }
    // Node-RED logs through IPC; whatever reaches stdout/stderr (a V8 out-of-memory report) is logged, a line at a time.
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('error', (err) => childLog.warn({ err: err.message }, 'Node-RED child output stream error'));
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim()) childLog.warn(line.slice(0, 500));
      });
    }
    child.on('error', (err) => {
      childLog.error({ err: err.message }, 'Node-RED child process error');
      // A child that never started (EAGAIN, EACCES, ENOENT) sends no exit: treat it as one.
      if (child.pid === undefined) this.onExit(child, null, null);
    });
    child.on('message', (m: unknown) => {
      if (child !== this.child) return;
      // Anything the child sends is checked first and can never throw into the agent: a flow
      // can reach process.send and forge messages.
      if (!isFromChild(m)) {
        this.badMessages += 1;
        if (this.logBudget.take())
          childLog.warn({ badMessages: this.badMessages }, 'Node-RED child sent a malformed message: ignored');
        return;
      }
      try {
        this.onMessage(m, childLog);
      } catch (err) {
        this.badMessages += 1;
        if (this.logBudget.take())
          childLog.error({ err: errorMessage(err) }, 'a message from the Node-RED child failed: ignored');
      }
    });
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    // The options, secrets included, go over the IPC channel only (see ChildOptions).
    try {
      child.send({ t: 'init', options } satisfies ToChild, (err) => {
        if (err) childLog.error({ err: err.message }, 'Node-RED child did not take its options');
      });
    } catch (err) {
      childLog.error({ err: errorMessage(err) }, 'Node-RED child did not take its options');
    }
    this.timer(() => {
      if (child === this.child && this.state === 'starting') this.kill('start-timeout');
    }, this.o.startTimeoutMs);
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
        this.rssBytes = m.stats.rssBytes;
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
    }
  }

  private heartbeat(): void {
    if (this.state !== 'running') return;
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

  private kill(reason: 'heartbeat' | 'start-timeout'): void {
    this.killReason = reason;
    this.child?.kill('SIGKILL');
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = null;
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
        child.kill('SIGKILL');
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
      childEvents: this.childEvents,
      requests: this.requests,
      refused: this.requestsHandler.refused,
      lastStartMs: this.lastStartMs,
      loginFailures: this.logins.failures,
    };
  }
}
