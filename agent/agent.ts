/**
 * The composition root: the only place that wires concrete parts together.
 * drivers -> emit -> bus (local consumers, synchronous) and outbox (durable) -> uplink.
 * The parts stay private: others watch through `observe`, act through the few methods below,
 * and the county's commands live in commands/, each with the narrow ports it needs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from './kernel/clock.js';
import type { Driver, OutputCommand, SharedBus } from './contracts/driver.js';
import type { EventInput, GatewayEvent } from './contracts/event.js';
import type { SmsSender } from './contracts/sms.js';
import { GatewayError, failure } from './kernel/errors.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { DeviceProfile } from '../config/schema/profile.js';
import { ConfigError, resolveProfiles } from '../config/load-config.js';
import { createDrivers } from '../drivers/registry.js';
import { stopAll } from './kernel/settle.js';
import { EventBus } from './event-bus.js';
import { EventFactory } from './event-factory.js';
import { healthEvent } from './health.js';
import { Outbox, type StorageError } from './outbox/outbox.js';
import { SeqCounter, type SeqFileProblem } from './seq-counter.js';
import { systemClock } from './kernel/system-clock.js';
import { Uplink } from './uplink/uplink.js';
import type { CommandRouter } from './uplink/commands.js';
import { VERSION } from './version.js';
import { LocalAlarms } from './alarms/local-alarms.js';
import { DataDirLock } from './data-dir-lock.js';
import { StorageFailures } from './storage-failures.js';
import { StorageWatch } from './storage-watch.js';
import { raiseStorageAlarm } from './storage-alarm.js';
import { DeviceSnapshot } from './device-snapshot.js';
import { readStatusFile, STATUS_FILE, statusView } from './status-view.js';
import { ShedReporter } from './shed-reporter.js';
import { PayloadProblems } from './payload-problems.js';
import { AgentObservation } from './observation.js';
import type { ReloadResult } from './commands/reload-config.js';
import { registerCommands } from './commands/register.js';
import { emitBootEvents } from './boot-events.js';
import { LostAlarms } from './lost-alarms.js';
import { isStorageRefusal } from './contracts/outbox-store.js';
import type { NodeRedSupervisor } from './nodered/supervisor.js';
import { supervisorFromConfig, type SupervisorTuning } from './nodered/from-config.js';

export interface AgentOptions {
  config: GatewayConfig;
  configHash: string;
  baseDir: string;
  logger: Logger;
  clock?: Clock;
  /** Device profiles by device id (loadConfig resolves them); resolved here when absent. */
  profiles?: Map<string, DeviceProfile>;
  /**
   * Re-reads and validates the config file; on success the owner (the CLI) restarts the agent
   * with it. Without it, `reload-config` answers that this agent cannot reload.
   */
  reloadConfig?: () => ReloadResult;
  /** Tests: the Node-RED supervisor's timings, sizes and paths (nodes folder, restart backoff, heartbeat, event queue). */
  nodeRed?: SupervisorTuning;
}

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
  private readonly outbox: Outbox;
  private readonly uplink: Uplink;
  private readonly factory: EventFactory;
  private readonly alarms: LocalAlarms;
  private readonly profiles: Map<string, DeviceProfile>;
  private readonly driverOf = new Map<string, Driver>();
  private buses = new Map<string, SharedBus>();
  private smsSenders = new Map<string, SmsSender>();
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private readonly startedMonoMs: number;
  private readonly lock: DataDirLock;
  private readonly seqFileProblem: SeqFileProblem | null;
  private readonly storageFailures: StorageFailures;
  private readonly storageWatch: StorageWatch;
  private readonly lost: LostAlarms;
  private readonly snapshot: DeviceSnapshot;
  private readonly shed: ShedReporter;
  private readonly payloadProblems: PayloadProblems;
  /** The Node-RED child, when the config has a `nodeRed` section (and it is enabled). */
  private readonly nodeRed: NodeRedSupervisor | null;

  /** The running drivers, through their contract (driver tests reach a concrete one by id). */
  get drivers(): Driver[] {
    return [...this.driverOf.values()];
  }

  constructor(private readonly opts: AgentOptions) {
    const { config, logger } = opts;
    const gatewayId = config.gateway.id;
    this.clock = opts.clock ?? systemClock(config.clock.synced);
    this.startedMonoMs = this.clock.monoMs();
    mkdirSync(config.dataDir, { recursive: true });
    // Before anything in the folder is opened: a second agent there would lose events.
    this.lock = DataDirLock.acquire(config.dataDir);
    this.bus = new EventBus(logger.child({ part: 'bus' }));
    try {
      this.outbox = new Outbox({
        dir: config.dataDir,
        config: config.outbox,
        clock: this.clock,
        diskReserveBytes: config.outbox.diskReserveBytes,
      });
    } catch (err) {
      this.lock.release();
      throw err;
    }
    const seq = SeqCounter.open(join(config.dataDir, 'seq.json'), this.outbox.maxSeq(), undefined, this.clock.now);
    this.seqFileProblem = seq.fileProblem;
    this.payloadProblems = new PayloadProblems(logger, this.clock.monoMs);
    this.factory = new EventFactory(gatewayId, seq, this.clock, this.payloadProblems);
    this.uplink = new Uplink({
      config: config.mqtt,
      baseDir: opts.baseDir,
      gatewayId,
      identity: { bootId: this.factory.bootId, version: VERSION, configHash: opts.configHash },
      outbox: this.outbox,
      logger,
      clock: this.clock,
    });
    this.commands = this.uplink.commands;
    // A modem that registers again is the first sign the network is back: do not sit out a long backoff.
    this.bus.on('modem.registration', (e) => {
      if (e.data.registered) this.uplink.networkMayBeBack();
    });
    let profiles = opts.profiles;
    if (!profiles) {
      const resolved = resolveProfiles(config, opts.baseDir);
      if (resolved.problems.length > 0) throw new ConfigError('config', resolved.problems);
      profiles = resolved.profiles;
    }
    this.profiles = profiles;
    this.alarms = new LocalAlarms({
      config,
      clock: this.clock,
      logger: logger.child({ part: 'alarms' }),
      emit: (e, beforeCommit) => this.emit(e, beforeCommit),
      write: (c) => this.write(c),
      subscribe: (l) => this.bus.subscribe(l),
      on: (type, handler) => this.bus.on(type, handler),
      ...this.uplink.alarmPorts(), // how long it has been down, and which alarms it has not delivered in time
      smsSender: () => this.smsModem(),
      notSaved: (file, err) => this.storageFailures.notSaved(file, err),
    });
    const storageLogger = logger.child({ part: 'storage' });
    this.storageFailures = new StorageFailures(storageLogger, this.clock.monoMs);
    this.storageWatch = new StorageWatch({
      dataDir: config.dataDir,
      logger: storageLogger,
      monoMs: this.clock.monoMs,
      raise: (reason) =>
        raiseStorageAlarm(
          {
            config,
            logger,
            emit: (e) => this.emit(e),
            write: (c) => this.write(c),
            sms: this.alarms.sms ? (to, text, why) => this.alarms.sms!.enqueue(to, text, null, why) : null,
          },
          reason,
        ),
      restored: (reason) =>
        this.emitLogged({
          deviceId: gatewayId,
          type: 'gateway.storage_restored',
          priority: 'high',
          data: { was: reason },
        }),
    });
    const previousContact = readStatusFile(join(config.dataDir, STATUS_FILE))?.link.lastCountyContact ?? null;
    this.snapshot = new DeviceSnapshot({
      dataDir: config.dataDir,
      logger,
      now: this.clock.now,
      devices: () => this.drivers.map((d) => d.describe()),
      buses: () => [...this.buses.values()].map((b) => b.describe()),
      nodeRed: () => this.nodeRed?.describe() ?? null,
      status: () =>
        statusView({
          observe: this.observe,
          gatewayId,
          version: VERSION,
          now: this.clock.now,
          heartbeat: () => this.heartbeat(),
          stopping: () => this.stopRequested,
          previousContact,
        }),
    });
    this.shed = new ShedReporter({
      gatewayId,
      logger,
      emit: (e) => this.emit(e),
      totals: () => this.outbox.stats().shed,
    });
    this.outbox.on('stored', () => this.storageWatch.noteSuccess());
    this.outbox.on('storageFailure', (f) => {
      this.storageFailures.report(f);
      this.storageWatch.noteFailure((f.error as StorageError).storeCode, f.error.message);
    });
    this.outbox.on('reserveReleased', (info) => {
      // An alarm of its own: a rule can sound the siren on it; the county sees it first.
      logger.error(
        failure('DISK_FULL', null, info),
        'disk full: the disk reserve went to alarms; telemetry is refused until there is room',
      );
      this.emitLogged({ deviceId: gatewayId, type: 'gateway.disk_full', priority: 'critical', data: info });
    });
    this.outbox.on('shed', (notice) => this.shed.note(notice));
    this.lost = new LostAlarms({
      gatewayId,
      logger: storageLogger,
      emit: (e, beforeCommit) => this.emit(e, beforeCommit),
      sendFromMemory: (e) => this.uplink.sendFromMemory(e),
      sms: (id) => this.alarms.smsForUnstored(id),
      refused: (n, err) => this.storageFailures.refused(n, err),
    });
    this.nodeRed = supervisorFromConfig(
      config,
      opts.baseDir,
      logger,
      {
        onEvent: (l) => this.bus.subscribe(l),
        emit: (e) => this.emitLogged(e),
        write: (c) => this.write(c),
        raiseAlert: (a) => this.alarms.raiseFlowAlert(a),
        status: () => this.observe.status(),
      },
      opts.nodeRed,
    );
    // The card's last bytes are the alarms': no flow runs while the disk reserve is out (the editor does).
    this.outbox.on('reserveHeld', (held) => this.nodeRed?.holdForDisk(!held));
    if (!this.outbox.reserve.isHeld) this.nodeRed?.holdForDisk(true);
    this.observe = new AgentObservation({
      nodeRed: this.nodeRed ? () => this.nodeRed!.describe() : null,
      identity: { gatewayId, bootId: this.factory.bootId, version: VERSION, configHash: opts.configHash },
      bus: this.bus,
      outbox: this.outbox,
      uplink: this.uplink,
      alarms: this.alarms,
      storageFailures: this.storageFailures,
      storageWatch: this.storageWatch,
      payloadProblems: this.payloadProblems,
      lostAlarms: () => this.lost.describe(),
      devices: () => this.drivers.map((d) => d.describe()),
      buses: () => [...this.buses.values()].map((b) => b.describe()),
    });
    this.jobs = {
      sweepAges: () => this.outbox.sweepAges(),
      checkSms: () => this.alarms.checkSms(),
      checkStorage: () => this.storageWatch.check(),
      flushOutbox: () => this.outbox.flush(),
      retrySmsNow: () => this.alarms.sms?.retryNow() ?? Promise.resolve(),
    };
    registerCommands(this.commands, {
      config,
      status: () => this.observe.status(),
      emit: (e) => this.emit(e),
      write: (c) => this.write(c),
      acknowledge: (alertId, by) => this.acknowledge(alertId, by),
      clear: (alertId) => this.alarms.clear(alertId),
      reloadConfig: opts.reloadConfig,
      now: this.clock.now,
      nodeRed: this.nodeRed,
    });
  }

  /**
   * Captures an event: local consumers see it at once; resolves once it is durable.
   * It is queued for commit the moment it has its seq, before consumers see it: a rule that
   * reacts by emitting an alert queues (and may commit) it behind the event that caused it,
   * so events commit in seq order.
   */
  emit(input: EventInput, beforeCommit?: (event: GatewayEvent) => void): Promise<GatewayEvent> {
    let event: GatewayEvent;
    try {
      event = this.factory.create(input);
    } catch (err) {
      return Promise.reject(err);
    }
    if (beforeCommit) {
      try {
        beforeCommit(event);
      } catch (err) {
        this.opts.logger.error(failure('LISTENER_FAILED', err, { eventId: event.id }), 'before-commit step failed');
      }
    }
    const stored = this.outbox.enqueue(event);
    this.lost.watch(event, stored);
    this.bus.publish(event);
    this.outbox.schedule(event.priority);
    return stored.then(() => event);
  }

  /** An event of the agent's own that may fail to be stored (a full or lost disk): logged, never thrown. */
  private emitLogged(input: EventInput): void {
    this.emit(input).catch(
      (err: Error) =>
        isStorageRefusal(err) ||
        this.opts.logger.error(failure('STORAGE_FAILED', err, { type: input.type }), `${input.type} not stored`),
    );
  }

  async start(): Promise<void> {
    const { config, logger } = this.opts;
    const gatewayId = config.gateway.id;
    await emitBootEvents({
      gatewayId,
      logger,
      emit: (e) => this.emit(e),
      recovered: this.outbox.recovered,
      seqFileProblem: this.seqFileProblem,
      version: VERSION,
      configHash: this.opts.configHash,
      firstSeq: this.factory.firstSeq ?? this.factory.nextSeq,
      stats: () => this.outbox.stats(),
      reserve: this.outbox.reserve,
    });
    const created = await createDrivers(
      config,
      this.profiles,
      (device) => ({ logger: logger.child({ device: device.id }), clock: this.clock, emit: (e) => this.emit(e) }),
      (busId) => logger.child({ bus: busId }),
    );
    this.buses = created.buses;
    this.smsSenders = created.smsSenders;
    for (const [id, d] of created.drivers) this.driverOf.set(id, d);
    await this.alarms.start(); // before the drivers: nothing captured at start-up is missed
    this.uplink.start();
    for (const bus of this.buses.values()) bus.start();
    for (const d of this.drivers) await d.start(this.abort.signal);
    this.alarms.resumeOutputs();
    // After the drivers: the child is never waited for (the alarm path does not depend on it).
    this.nodeRed?.start();
    this.timers.push(setInterval(() => void this.reportHealth(), config.health.intervalSec * 1000));
    this.timers.push(setInterval(() => this.outbox.sweepAges(), 60_000));
    this.shed.start(config.health.intervalSec * 1000);
    this.storageWatch.start();
    this.snapshot.start();
    logger.info({ gatewayId, devices: this.drivers.length, backlog: this.outbox.size }, 'agent started');
  }

  /**
   * For the systemd watchdog (service-notify.ts): null while the agent's own work goes on, else
   * why not. The ping itself comes from a timer, so a blocked event loop sends none. A lost data
   * folder is deliberately no reason: a restarted agent would refuse to start on it, while this
   * one still sounds the sirens and sends SMS (storage-alarm.ts).
   */
  heartbeat(): string | null {
    if (this.stopRequested) return 'the agent is stopping';
    if (this.snapshot.lastWriteMs === null) return 'the agent has not started';
    const quietMs = performance.now() - this.snapshot.lastWriteMs;
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
    return this.alarms.acknowledge(alertId, by);
  }

  /** Queues an SMS to these numbers through the alarms' queue (persisted, rate-limited, recorded as sms.* events). */
  async sendSms(to: readonly string[], text: string, reason: string): Promise<void> {
    if (!this.alarms.sms)
      throw new GatewayError('MODEM_NOT_READY', 'the SMS queue runs only once the agent has started');
    await this.alarms.sms.enqueue(to, text, null, reason);
  }

  private healthInput(): EventInput {
    return healthEvent(this.opts.config.gateway.id, {
      outbox: () => this.outbox.stats(),
      uplink: () => this.uplink.stats(),
      drivers: () => this.drivers.map((d) => d.describe()),
      storage: () => ({
        failures: this.storageFailures.counts,
        eventsNotStored: this.storageFailures.eventsNotStored,
        lastError: this.storageFailures.lastError,
      }),
      payloadProblems: () => this.payloadProblems.count,
      nodeRed: this.nodeRed ? () => this.nodeRed!.describe() : null,
      dataDir: this.opts.config.dataDir,
      startedMonoMs: this.startedMonoMs,
      monoMs: this.clock.monoMs,
      now: this.clock.now,
    });
  }

  private async reportHealth(): Promise<void> {
    await this.emit(this.healthInput()).catch(
      (err: Error) =>
        isStorageRefusal(err) || this.opts.logger.warn(failure('STORAGE_FAILED', err), 'health not stored'),
    );
  }

  /**
   * Idempotent: a second call waits for the same shutdown. Drivers, then buses, are stopped
   * together with a time limit (settled, never awaited forever): one stuck close (a serial
   * port, a TCP gateway that never finishes its close) cannot keep the outbox from being
   * flushed and closed. Whatever did not stop in time is named in the log.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopRequested = true; // before the last snapshot below (this.stopping is set only once this returns)
      const { logger } = this.opts;
      for (const t of this.timers.splice(0)) clearInterval(t);
      this.shed.stop();
      this.snapshot.stop();
      this.storageWatch.stop();
      this.alarms.stop();
      const nodeRedStopped = this.nodeRed?.stop(Agent.STOP_LIMIT_MS) ?? Promise.resolve();
      this.snapshot.write(); // the last view while the devices still ran (a stopped driver is offline)
      this.abort.abort();
      await stopAll(
        [...this.driverOf].map(([id, d]) => ({ name: `device ${id}`, stop: () => d.stop() })),
        Agent.STOP_LIMIT_MS,
        logger,
      );
      await stopAll(
        [...this.buses].map(([id, b]) => ({ name: `bus ${id}`, stop: () => b.stop() })),
        Agent.STOP_LIMIT_MS,
        logger,
      );
      await nodeRedStopped; // bounded: the supervisor kills the child after STOP_LIMIT_MS
      this.shed.report();
      this.outbox.flush();
      this.lost.report();
      await this.uplink.stop();
      this.outbox.close();
      this.storageFailures.stop();
      this.lock.release();
      logger.info('agent stopped');
    })();
    return this.stopping;
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
