/**
 * The composition root: the only place that wires concrete parts together.
 * drivers -> emit -> bus (local consumers, synchronous) and outbox (durable) -> uplink.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from './kernel/clock.js';
import type { Driver, SharedBus } from './contracts/driver.js';
import type { EventInput, GatewayEvent } from './contracts/event.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { createDrivers } from '../drivers/registry.js';
import { stopAll } from '../drivers/stopped.js';
import type { DeviceProfile } from '../config/schema/profile.js';
import { ConfigError, resolveProfiles } from '../config/load-config.js';
import type { OutputCommand } from './contracts/driver.js';
import { GatewayError } from './kernel/errors.js';
import { EventBus } from './event-bus.js';
import { EventFactory } from './event-factory.js';
import { healthEvent } from './health.js';
import { Outbox } from './outbox/outbox.js';
import { SeqCounter, type SeqFileProblem } from './seq-counter.js';
import { systemClock } from './system-clock.js';
import { Uplink } from './uplink/uplink.js';
import { VERSION } from './version.js';
import { z } from 'zod';
import { LocalAlarms } from './alarms/local-alarms.js';
import type { SmsSender } from './contracts/sms.js';
import { DataDirLock } from './data-dir-lock.js';
import { StorageFailures } from './storage-failures.js';
import { StorageWatch } from './storage-watch.js';
import type { StorageError } from './outbox/outbox.js';

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
  reloadConfig?: () => { ok: true; configHash: string } | { ok: false; code: 'CONFIG_INVALID' | 'CONFIG_CANNOT_RUN'; problems: string[] };
}

const SHED_REPORT_MS = 10_000;
const DEVICE_SNAPSHOT_MS = 5_000;

export class Agent {
  readonly bus: EventBus;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  readonly factory: EventFactory;
  /** Created at start (driver code is loaded only for the kinds the config uses). */
  get drivers(): Driver[] {
    return [...this.driverOf.values()];
  }
  buses = new Map<string, SharedBus>();
  private smsSenders = new Map<string, SmsSender>();
  private readonly profiles: Map<string, DeviceProfile>;
  readonly alarms: LocalAlarms;
  private readonly driverOf = new Map<string, Driver>();
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private readonly startedMonoMs: number;
  private shedPending = new Map<string, number>();
  private stopped = false;
  private readonly lock: DataDirLock;
  private readonly seqFileProblem: SeqFileProblem | null;
  readonly storageFailures: StorageFailures;
  readonly storageWatch: StorageWatch;

  constructor(private readonly opts: AgentOptions) {
    const { config, logger } = opts;
    this.clock = opts.clock ?? systemClock(config.clock.synced);
    this.startedMonoMs = this.clock.monoMs();
    mkdirSync(config.dataDir, { recursive: true });
    // Before anything in the folder is opened: a second agent there would lose events.
    this.lock = DataDirLock.acquire(config.dataDir);
    this.bus = new EventBus(logger.child({ part: 'bus' }));
    try {
      this.outbox = new Outbox({ dir: config.dataDir, config: config.outbox, clock: this.clock, diskReserveBytes: config.outbox.diskReserveBytes });
    } catch (err) {
      this.lock.release();
      throw err;
    }
    const seq = SeqCounter.open(join(config.dataDir, 'seq.json'), this.outbox.maxSeq(), undefined, this.clock.now);
    this.seqFileProblem = seq.fileProblem;
    this.factory = new EventFactory(config.gateway.id, seq, this.clock);
    this.uplink = new Uplink({
      config: config.mqtt,
      baseDir: opts.baseDir,
      gatewayId: config.gateway.id,
      identity: { bootId: this.factory.bootId, version: VERSION, configHash: opts.configHash },
      outbox: this.outbox,
      logger,
      clock: this.clock,
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
      uplinkDownForMs: () => this.uplink.stats().downForMs,
      smsSender: () => this.smsModem(),
    });
    this.storageFailures = new StorageFailures(logger.child({ part: 'storage' }), this.clock.monoMs);
    this.storageWatch = new StorageWatch({
      dataDir: config.dataDir,
      logger: logger.child({ part: 'storage' }),
      monoMs: this.clock.monoMs,
      raise: (reason) => this.raiseStorageAlarm(reason),
      restored: (reason) => void this.emit({ deviceId: config.gateway.id, type: 'gateway.storage_restored', priority: 'high', data: { was: reason } }).catch(() => {}),
    });
    this.outbox.on('stored', () => this.storageWatch.noteSuccess());
    this.outbox.on('storageFailure', (f) => {
      this.storageFailures.report(f);
      this.storageWatch.noteFailure((f.error as StorageError).storeCode, f.error.message);
    });
    this.outbox.on('reserveReleased', (info) => {
      // An alarm of its own: a rule can sound the siren on it; the county sees it first.
      logger.error(info, 'disk full: the disk reserve went to alarms; telemetry is refused until there is room');
      void this.emit({ deviceId: config.gateway.id, type: 'gateway.disk_full', priority: 'critical', data: info }).catch(() => {});
    });
    this.outbox.on('shed', ({ priority, count, reason }) => {
      if (reason !== 'storage') logger.warn({ priority, count, reason }, 'outbox shed events'); // storage: logged once a second by storageFailures
      const key = `${priority}/${reason}`;
      this.shedPending.set(key, (this.shedPending.get(key) ?? 0) + count);
    });
    this.registerCommands();
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
        this.opts.logger.error({ err, eventId: event.id }, 'before-commit step failed');
      }
    }
    const stored = this.outbox.enqueue(event);
    this.bus.publish(event);
    this.outbox.schedule(event.priority);
    return stored.then(() => event);
  }

  async start(): Promise<void> {
    const { config, logger } = this.opts;
    if (this.outbox.recovered) {
      logger.error(this.outbox.recovered, 'outbox was corrupt: moved aside, started fresh');
      await this.emit({ deviceId: config.gateway.id, type: 'gateway.storage_recovered', priority: 'critical', data: { ...this.outbox.recovered } }).catch((err: Error) => logger.error({ err: err.message }, 'gateway.storage_recovered not stored'));
    }
    if (this.seqFileProblem) {
      // The count went on from what the outbox holds; the bad file is kept for a technician.
      logger.error({ ...this.seqFileProblem, file: 'seq.json' }, 'sequence file was unreadable: kept aside, counting on from the outbox');
      await this.emit({ deviceId: config.gateway.id, type: 'gateway.state_recovered', priority: 'high', data: { file: 'seq.json', ...this.seqFileProblem } }).catch((err: Error) => logger.error({ err: err.message }, 'gateway.state_recovered not stored'));
    }
    // Stored when it can be: a gateway on a full card still starts and runs its local rules.
    const notStored = (what: string) => (err: Error) => logger.error({ err: err.message }, `${what} not stored`);
    await this.emit({ deviceId: config.gateway.id, type: 'gateway.started', priority: 'high', data: { version: VERSION, configHash: this.opts.configHash, backlog: this.outbox.stats().total, firstSeq: this.factory.firstSeq ?? this.factory.nextSeq, shed: this.outbox.stats().shed } }).catch(notStored('gateway.started'));
    if (!this.outbox.reserve.isHeld && this.outbox.reserve.size > 0) {
      await this.emit({ deviceId: config.gateway.id, type: 'gateway.disk_full', priority: 'critical', data: { freeBytes: this.outbox.reserve.freeBytes(), reserveBytes: this.outbox.reserve.size, atStart: true } }).catch(notStored('gateway.disk_full'));
    }
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
    this.timers.push(setInterval(() => void this.reportHealth(), config.health.intervalSec * 1000));
    this.timers.push(setInterval(() => this.reportShedding(), Math.min(SHED_REPORT_MS, config.health.intervalSec * 1000)));
    this.timers.push(setInterval(() => this.outbox.sweepAges(), 60_000));
    this.timers.push(setInterval(() => this.writeDeviceSnapshot(), DEVICE_SNAPSHOT_MS));
    this.storageWatch.start();
    this.writeDeviceSnapshot();
    logger.info({ gatewayId: config.gateway.id, devices: this.drivers.length, backlog: this.outbox.size }, 'agent started');
  }

  /**
   * What `village-gateway devices` shows: each driver's own description and each bus's
   * counters, written beside the outbox every few seconds (tmp + rename; no fsync: it is a view).
   */
  private writeDeviceSnapshot(): void {
    const snapshot = {
      writtenAt: new Date(this.clock.now()).toISOString(),
      pid: process.pid,
      devices: this.drivers.map((d) => d.describe()),
      buses: [...this.buses.values()].map((b) => b.describe()),
    };
    try {
      const file = join(this.opts.config.dataDir, 'devices.json');
      writeFileSync(`${file}.tmp`, JSON.stringify(snapshot, null, 2));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'device snapshot not written');
    }
  }

  /**
   * The data folder is lost (read-only, vanished, replaced): a critical local alarm, since
   * events can no longer be kept. Sirens play their test pattern, an SMS goes out where a
   * modem is configured, and the event reaches local rules (and the county, if the link is up).
   */
  private raiseStorageAlarm(reason: string): void {
    const { config, logger } = this.opts;
    void this.emit({ deviceId: config.gateway.id, type: 'gateway.storage_failed', priority: 'critical', data: { reason, dataDir: config.dataDir } }).catch(() => {});
    for (const s of config.alarms.sirens) {
      void this.write({ deviceId: s.device, output: s.output, action: 'pulse', durationMs: s.testMs }).catch((err: Error) => logger.error({ err: err.message, siren: s }, 'storage alarm: siren not sounded'));
    }
    const to = config.alarms.smsTo;
    if (to.length > 0 && this.alarms.sms) {
      const text = `${config.gateway.name ?? config.gateway.id}: data storage failed, events are not kept (${reason}). Local alarms still work.`;
      void this.alarms.sms.enqueue(to, text, null, 'storage failed').catch((err: Error) => logger.error({ err: err.message }, 'storage alarm: SMS state not saved (the SMS is still queued in memory)'));
    }
  }

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

  healthInput(): EventInput {
    return healthEvent(this.opts.config.gateway.id, {
      outbox: () => this.outbox.stats(),
      uplink: () => this.uplink.stats(),
      drivers: () => this.drivers.map((d) => d.describe()),
      storage: () => ({ failures: this.storageFailures.counts, eventsNotStored: this.storageFailures.eventsNotStored, lastError: this.storageFailures.lastError }),
      dataDir: this.opts.config.dataDir,
      startedMonoMs: this.startedMonoMs,
      monoMs: this.clock.monoMs,
      now: this.clock.now,
    });
  }

  private async reportHealth(): Promise<void> {
    await this.emit(this.healthInput()).catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'health not stored'));
  }

  /** Shedding is never silent: a summary event at most every 10 s (or health interval) while it goes on. */
  private reportShedding(): void {
    if (this.shedPending.size === 0) return;
    const pending = new Map(this.shedPending);
    this.shedPending.clear();
    void this.emit({ deviceId: this.opts.config.gateway.id, type: 'gateway.events_shed', priority: 'high', data: { counts: Object.fromEntries(pending), totals: this.outbox.stats().shed } }).catch(() => {
      // Not stored either (the disk is still full): report these counts with the next attempt.
      for (const [key, n] of pending) this.shedPending.set(key, (this.shedPending.get(key) ?? 0) + n);
    });
  }

  private registerCommands(): void {
    this.uplink.commands.register('status', {
      args: z.strictObject({}),
      run: () => ({
        version: VERSION,
        configHash: this.opts.configHash,
        outbox: this.outbox.stats(),
        uplink: this.uplink.stats(),
        devices: this.drivers.map((d) => d.describe()),
        alarms: {
          active: [...this.alarms.active.values()].filter((a) => !a.ackedAt).map((a) => ({ alertId: a.alertId, rule: a.ruleId, deviceId: a.deviceId, raisedAt: a.raisedAt, smsSentAt: a.smsSentAt })),
          acknowledged: [...this.alarms.active.values()].filter((a) => a.ackedAt).length,
          smsPending: this.alarms.sms?.pending.length ?? 0,
          smsSent: this.alarms.sms?.sent ?? 0,
          smsFailed: this.alarms.sms?.failed ?? 0,
          rules: Object.fromEntries(this.alarms.engine.stats),
        },
      }),
    });
    this.uplink.commands.register('siren-test', {
      args: z.strictObject({ ms: z.int().min(100).max(60_000).optional() }),
      run: async ({ ms }) => {
        const sirens = this.opts.config.alarms.sirens;
        if (sirens.length === 0) throw new GatewayError('NO_SIRENS', 'no sirens configured (alarms.sirens)');
        const results = await Promise.all(
          sirens.map((s) =>
            this.write({ deviceId: s.device, output: s.output, action: 'pulse', durationMs: ms ?? s.testMs }).then(
              () => ({ device: s.device, output: s.output, ok: true as const }),
              (err: Error) => ({ device: s.device, output: s.output, ok: false as const, error: err.message }),
            ),
          ),
        );
        await this.emit({ deviceId: this.opts.config.gateway.id, type: 'alarm.siren_test', priority: 'normal', data: { results } });
        return { sirens: results };
      },
    });
    this.uplink.commands.register('reload-config', {
      args: z.strictObject({}),
      run: () => {
        const reload = this.opts.reloadConfig;
        if (!reload) throw new GatewayError('RELOAD_UNAVAILABLE', 'this agent was not started from a config file');
        const res = reload();
        if (!res.ok) {
          const what = res.code === 'CONFIG_INVALID' ? 'is invalid' : 'cannot run on this gateway';
          throw new GatewayError(res.code, `the new config ${what}; the running config stays: ${res.problems.join('; ')}`);
        }
        // Not applied yet: the new agent says gateway.config_applied once it runs (or the old one comes back: gateway.config_rejected).
        return { accepted: true, applied: false, configHash: res.configHash, note: 'the agent restarts with it now; gateway.config_applied follows once it runs, or gateway.config_rejected with the previous config back' };
      },
    });
    this.uplink.commands.register('ack', {
      args: z.strictObject({ alertId: z.string().min(1) }),
      run: ({ alertId }) => this.alarms.acknowledge(alertId, 'county'),
    });
    this.uplink.commands.register('output', {
      args: z.strictObject({ device: z.string().min(1), output: z.string().min(1), action: z.enum(['on', 'off', 'pulse']), durationMs: z.int().min(1).max(3_600_000).optional() }),
      run: async ({ device, output, action, durationMs }) => {
        const cfg = this.opts.config.devices.find((d) => d.id === device);
        if (!cfg) throw new GatewayError('UNKNOWN_DEVICE', `no device "${device}"`);
        const declared = cfg.driver === 'modbus' ? cfg.outputs[output] : undefined;
        if (!declared?.remote) throw new GatewayError('NOT_REMOTE', `output "${output}" of "${device}" is not declared remotely controllable (outputs.${output}.remote: true)`);
        await this.write({ deviceId: device, output, action, ...(durationMs !== undefined ? { durationMs } : {}) });
        return { device, output, action };
      },
    });
    this.uplink.commands.register('ping', { args: z.strictObject({}), run: () => ({ pong: true, ts: new Date(this.clock.now()).toISOString() }) });
  }

  /**
   * Idempotent: a second call waits for the same shutdown. Drivers, then buses, are stopped
   * together with a time limit (settled, never awaited forever): one stuck close (a serial
   * port, a TCP gateway that never finishes its close) cannot keep the outbox from being
   * flushed and closed. Whatever did not stop in time is named in the log.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { logger } = this.opts;
      this.stopped = true;
      for (const t of this.timers.splice(0)) clearInterval(t);
      this.storageWatch.stop();
      this.alarms.stop();
      this.writeDeviceSnapshot(); // the last view while the devices still ran (a stopped driver is offline)
      this.abort.abort();
      await stopAll([...this.driverOf].map(([id, d]) => ({ name: `device ${id}`, stop: () => d.stop() })), Agent.STOP_LIMIT_MS, logger);
      await stopAll([...this.buses].map(([id, b]) => ({ name: `bus ${id}`, stop: () => b.stop() })), Agent.STOP_LIMIT_MS, logger);
      this.reportShedding();
      this.outbox.flush();
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
}
