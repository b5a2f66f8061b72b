/**
 * The composition root: the only place that wires concrete parts together.
 * drivers -> emit -> bus (local consumers, synchronous) and outbox (durable) -> uplink.
 * The parts stay private: others watch through `observe`, act through the few methods below,
 * and the county's commands live in commands/, each with the narrow ports it needs.
 * Making an Agent opens nothing: start() takes the data folder, the outbox and the rest in
 * order (agent-parts.ts), and if a step fails it lets go of everything it took.
 */
import type { MediaParts } from './wire-media.js';
import type { Clock } from '../core/kernel/clock.js';
import type { Driver, OutputCommand, SharedBus } from '../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../core/contracts/event.js';
import type { SmsSender } from '../core/contracts/sms.js';
import { GatewayError, failure } from '../core/kernel/errors.js';
import { createDrivers } from '../drivers/registry.js';
import { resolveSecret } from '../config/load-config.js';
import { stopAll } from '../core/kernel/settle.js';
import { EventBus } from './event-bus.js';
import { healthEvent } from './health.js';
import { systemClock } from '../core/kernel/system-clock.js';
import { commandRouterFor } from './uplink/uplink.js';
import type { CommandRouter } from './uplink/commands.js';
import { VERSION } from './version.js';
import { AgentObservation } from './observation.js';
import { emitBootEvents } from './boot-events.js';
import { isStorageRefusal } from '../core/contracts/outbox-store.js';
import type { AgentOptions } from './agent-options.js';
import { openAgentParts, type AgentParts } from './agent-parts.js';

export type { AgentOptions } from './agent-options.js';

/**
 * The periodic jobs the agent runs on its own timers, to run at once: tests with a fake or
 * jumping clock, and a technician's tool that wants an answer now rather than in a minute.
 */
export interface AgentJobs {
  /** Sheds events over the age cap, restores the disk reserve when there is room again. */
  sweepAges(): number;
  /** SMS fallback and escalation checks (every second on its own). */
  checkSms(): Promise<void>;
  /** Whether the data folder is still there and writable (every few seconds on its own). */
  checkStorage(): void;
  /** Commits whatever waits in the outbox's group commit now. */
  flushOutbox(): void;
  /** Sends queued SMS now instead of after their retry backoff. */
  retrySmsNow(): Promise<void>;
}

export class Agent {
  /** How the agent is watched: status, backlog, link, devices, alarms, storage, events. */
  readonly observe: AgentObservation;
  /** The county's commands; a test or an extension may register its own. */
  readonly commands: CommandRouter;
  readonly jobs: AgentJobs;
  private readonly bus: EventBus;
  private readonly clock: Clock;
  private readonly startedMonoMs: number;
  /** What start() opened (null before, and again after a start that failed). */
  private parts: AgentParts | null = null;
  private readonly storedListeners = new Set<(events: GatewayEvent[]) => void>();
  private readonly driverOf = new Map<string, Driver>();
  private buses = new Map<string, SharedBus>();
  private smsSenders = new Map<string, SmsSender>();
  private readonly abort = new AbortController();
  private timers: NodeJS.Timeout[] = [];

  /** The running drivers, through their contract (driver tests reach a concrete one by id). */
  get drivers(): Driver[] {
    return [...this.driverOf.values()];
  }

  /** Opens nothing (no lock, no database, no timer): a watcher or a command can be added before open() or start(). */
  constructor(private readonly opts: AgentOptions) {
    const { config, logger } = opts;
    this.clock = opts.clock ?? systemClock(config.clock.synced);
    this.startedMonoMs = this.clock.monoMs();
    this.bus = new EventBus(logger.child({ part: 'bus' }));
    this.commands = commandRouterFor(config.mqtt, config.gateway.id, logger, this.clock, {
      county: config.county,
      dataDir: config.dataDir,
    });
    this.observe = new AgentObservation({
      bus: this.bus,
      onStored: (listener) => {
        this.storedListeners.add(listener);
        return () => void this.storedListeners.delete(listener);
      },
      parts: () => {
        const p = this.running();
        return {
          identity: {
            gatewayId: config.gateway.id,
            bootId: p.factory.bootId,
            version: VERSION,
            configHash: opts.configHash,
          },
          outbox: p.outbox,
          uplink: p.uplink,
          alarms: p.alarms,
          storageFailures: p.storageFailures,
          storageWatch: p.storageWatch,
          payloadProblems: p.payloadProblems,
          lostAlarms: () => p.lost.describe(),
          devices: () => this.drivers.map((d) => d.describe()),
          buses: () => [...this.buses.values()].map((b) => b.describe()),
          nodeRed: p.nodeRed ? () => p.nodeRed!.describe() : null,
          media: () => ({ ...p.mediaSender.describe(), requests: { ...p.taking.requests.counts } }),
        };
      },
    });
    this.jobs = {
      sweepAges: () => this.running().outbox.sweepAges(),
      checkSms: () => this.running().alarms.checkSms(),
      checkStorage: () => this.running().storageWatch.check(),
      flushOutbox: () => this.running().outbox.flush(),
      retrySmsNow: () => this.running().alarms.sms?.retryNow() ?? Promise.resolve(),
    };
  }

  /** The camera pictures' store (camera snapshots go here) and their uploader, once open() or start() ran. */
  pictures(): MediaParts {
    const p = this.running();
    return { media: p.media, mediaSender: p.mediaSender, pictureCauses: p.pictureCauses };
  }

  /** The parts, once start() has opened them. */
  private running(): AgentParts {
    if (!this.parts)
      throw new GatewayError('OUTBOX_CLOSED', 'the agent is not open (open() or start()), or its start failed');
    return this.parts;
  }

  /**
   * Captures an event: local consumers see it at once; resolves once it is durable
   * (event-pipeline.ts: create -> commit -> publish -> schedule).
   */
  emit(input: EventInput, beforeCommit?: (event: GatewayEvent) => void): Promise<GatewayEvent> {
    if (!this.parts)
      return Promise.reject(new GatewayError('OUTBOX_CLOSED', 'the agent is not open (open() or start()): not stored'));
    return this.parts.pipeline.emit(input, beforeCommit);
  }

  /**
   * Takes the data folder and opens the outbox and the parts (agent-parts.ts), nothing
   * started yet: an owner that queues a backlog before the link is up calls this first.
   * start() calls it when it was not called. A step that fails lets go of what was taken.
   * Async only to load the Node-RED wiring, and only when the config runs Node-RED.
   */
  async open(): Promise<void> {
    if (this.parts) return;
    const nodeRed = this.opts.config.nodeRed?.enabled ? (await import('./wire-nodered.js')).wireNodeRed : null;
    this.parts ??= openAgentParts(
      {
        opts: this.opts,
        clock: this.clock,
        bus: this.bus,
        commands: this.commands,
        observe: this.observe,
        stored: (events) => {
          for (const listener of [...this.storedListeners]) listener(events);
        },
        write: (c) => this.write(c),
        drivers: () => this.drivers,
        capture: (id, channel) => {
          const driver = this.driverOf.get(id);
          if (!driver?.capture) return Promise.reject(new GatewayError('NO_CAMERA', `no camera "${id}" is running`));
          return driver.capture(channel);
        },
        buses: () => [...this.buses.values()],
        smsModem: () => this.smsModem(),
        heartbeat: () => this.heartbeat(),
        stopping: () => this.stopRequested,
      },
      nodeRed,
    );
  }

  /**
   * Opens (when open() was not called), then starts the parts in order: boot events, drivers,
   * alarms, uplink, Node-RED, timers. A step that fails lets go of everything taken before it
   * (the lock, the database, timers, sockets) and the error leaves.
   */
  async start(): Promise<void> {
    await this.open();
    const parts = this.running();
    try {
      await this.run(parts);
    } catch (err) {
      await this.release(parts);
      this.parts = null;
      throw err;
    }
  }

  private async run(p: AgentParts): Promise<void> {
    const { config, logger } = this.opts;
    const gatewayId = config.gateway.id;
    await emitBootEvents({
      gatewayId,
      logger,
      emit: (e) => this.emit(e),
      recovered: p.outbox.recovered,
      seqFileProblem: p.seqFileProblem,
      version: VERSION,
      configHash: this.opts.configHash,
      firstSeq: p.factory.firstSeq ?? p.factory.nextSeq,
      previousLastSeq: p.previousLastSeq,
      stats: () => p.outbox.stats(),
      reserve: p.outbox.reserve,
    });
    const created = await createDrivers(
      config,
      p.profiles,
      (device) => ({ logger: logger.child({ device: device.id }), clock: this.clock, emit: (e) => this.emit(e) }),
      (busId) => logger.child({ bus: busId }),
      (ref) => resolveSecret(ref, this.opts.baseDir),
    );
    this.buses = created.buses;
    this.smsSenders = created.smsSenders;
    for (const [id, d] of created.drivers) this.driverOf.set(id, d);
    await p.alarms.start(); // before the drivers: nothing captured at start-up is missed
    p.uplink.start();
    for (const bus of this.buses.values()) bus.start();
    for (const d of this.drivers) await d.start(this.abort.signal);
    p.alarms.resumeOutputs();
    // After the drivers: the child is never waited for (the alarm path does not depend on it).
    p.nodeRed?.start();
    this.timers.push(setInterval(() => void this.reportHealth(), config.health.intervalSec * 1000));
    this.timers.push(setInterval(() => p.outbox.sweepAges(), 60_000));
    p.shed.start(config.health.intervalSec * 1000);
    p.storageWatch.start();
    p.snapshot.start();
    logger.info({ gatewayId, devices: this.drivers.length, backlog: p.outbox.size }, 'agent started');
  }

  /**
   * For the systemd watchdog (service-notify.ts): null while the agent's own work goes on, else
   * why not. The ping itself comes from a timer, so a blocked event loop sends none. A lost data
   * folder is deliberately no reason: a restarted agent would refuse to start on it, while this
   * one still sounds the sirens and sends SMS (storage-alarm.ts).
   */
  heartbeat(): string | null {
    if (this.stopRequested) return 'the agent is stopping';
    const lastWriteMs = this.parts?.snapshot.lastWriteMs ?? null;
    if (lastWriteMs === null) return 'the agent has not started';
    const quietMs = performance.now() - lastWriteMs;
    if (quietMs > Agent.HEARTBEAT_STALE_MS) return `the agent's timers stopped ${Math.round(quietMs / 1000)} s ago`;
    return null;
  }

  /** The snapshot timer runs every 5 s; a loop that turns but no longer runs it for this long is stuck. */
  static readonly HEARTBEAT_STALE_MS = 30_000;

  /** The modem for SMS: the configured one, else the only one. */
  private smsModem(): SmsSender | null {
    const want = this.opts.config.alarms.modem;
    const modems = [...this.smsSenders].filter(([id]) => want === undefined || id === want);
    return modems.length === 1 ? modems[0]![1] : null;
  }

  /** Drives an output of a configured device (siren, strobe, LED, relay). */
  write(command: OutputCommand): Promise<void> {
    const driver = this.driverOf.get(command.deviceId);
    if (!driver) return Promise.reject(new GatewayError('UNKNOWN_DEVICE', `no device "${command.deviceId}"`));
    return driver.write(command);
  }

  /** An acknowledgement (the county's `ack`, a technician): lights the button's LED, stops escalation. */
  acknowledge(
    alertId: string,
    by: string,
  ): Promise<{ alertId: string; alreadyAcknowledged: boolean; led: string | null }> {
    return this.running().alarms.acknowledge(alertId, by);
  }

  /** Queues an SMS to these numbers through the alarms' queue (persisted, rate-limited, recorded as sms.* events). */
  async sendSms(to: readonly string[], text: string, reason: string): Promise<void> {
    const sms = this.parts?.alarms.sms;
    if (!sms) throw new GatewayError('MODEM_NOT_READY', 'the SMS queue runs only once the agent has started');
    await sms.enqueue(to, text, null, reason);
  }

  private healthInput(p: AgentParts): EventInput {
    return healthEvent(this.opts.config.gateway.id, {
      outbox: () => p.outbox.stats(),
      uplink: () => p.uplink.stats(),
      drivers: () => this.drivers.map((d) => d.describe()),
      storage: () => ({
        failures: p.storageFailures.counts,
        eventsNotStored: p.storageFailures.eventsNotStored,
        lastError: p.storageFailures.lastError,
      }),
      payloadProblems: () => p.payloadProblems.count,
      nodeRed: p.nodeRed ? () => p.nodeRed!.describe() : null,
      dataDir: this.opts.config.dataDir,
      startedMonoMs: this.startedMonoMs,
      monoMs: this.clock.monoMs,
      now: this.clock.now,
    });
  }

  private async reportHealth(): Promise<void> {
    await this.emit(this.healthInput(this.running())).catch(
      (err: Error) =>
        isStorageRefusal(err) || this.opts.logger.warn(failure('STORAGE_FAILED', err), 'health not stored'),
    );
  }

  /**
   * Idempotent: a second call waits for the same shutdown. An agent that never started (or
   * whose start failed and let go of what it took) has nothing to stop.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopRequested = true; // before the last snapshot below (this.stopping is set only once this returns)
      if (!this.parts) return;
      await this.release(this.parts);
      this.opts.logger.info('agent stopped');
    })();
    return this.stopping;
  }

  /**
   * Lets go of the parts, whether they all started (stop) or a start step failed part way.
   * Drivers, then buses, are stopped together with a time limit (settled, never awaited
   * forever): one stuck close (a serial port, a TCP gateway that never finishes its close)
   * cannot keep the outbox from being flushed and closed. Whatever did not stop in time is
   * named in the log.
   */
  private async release(p: AgentParts): Promise<void> {
    const { logger } = this.opts;
    for (const t of this.timers.splice(0)) clearInterval(t);
    p.shed.stop();
    const snapshotRan = p.snapshot.lastWriteMs !== null;
    p.snapshot.stop();
    p.storageWatch.stop();
    p.alarms.stop();
    p.flowsPush?.stop(); // a push still on probation is judged at the next start
    const nodeRedStopped = p.nodeRed?.stop(Agent.STOP_LIMIT_MS) ?? Promise.resolve();
    if (snapshotRan) p.snapshot.write(); // the last view while the devices still ran (a stopped driver is offline)
    this.abort.abort();
    await stopAll(
      [...this.driverOf].map(([id, d]) => ({ name: `device ${id}`, stop: () => d.stop() })),
      Agent.STOP_LIMIT_MS,
      logger,
    );
    await p.taking.stop(); // the drivers are stopped: a picture still on its way is given up, not left to a closed outbox
    await stopAll(
      [...this.buses].map(([id, b]) => ({ name: `bus ${id}`, stop: () => b.stop() })),
      Agent.STOP_LIMIT_MS,
      logger,
    );
    await nodeRedStopped; // bounded: the supervisor kills the child after STOP_LIMIT_MS
    p.shed.report();
    p.outbox.flush();
    p.lost.report();
    await p.uplink.stop();
    p.mediaSender.stop();
    // Its state file is written off the loop: a save still on its way when stop() returned wrote
    // into a data folder a reload or an update may be moving (seen as a test's ENOTEMPTY).
    await stopAll([{ name: 'media upload state', stop: () => p.mediaSender.flushed() }], Agent.STOP_LIMIT_MS, logger);
    p.chunkRequests.stop();
    p.outbox.close();
    p.storageFailures.stop();
    p.lock.release();
  }

  /**
   * How long stop() waits for the drivers (and then the buses). Long enough for a driver to
   * end its timed pulses on a healthy bus (a few requests at the default 300 ms RTU / 1 s TCP
   * timeouts), short enough that a service stop or a config reload is not held up.
   */
  static readonly STOP_LIMIT_MS = 3000;
  private stopping: Promise<void> | null = null;
  private stopRequested = false;
}
