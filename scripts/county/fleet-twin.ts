/**
 * A light twin of one gateway: the agent's own Uplink (the real Connection and Drain, with the
 * agent's defaults: persistent session under the gateway id, window, batching, replay pacing,
 * will and status) over an outbox in memory, fed by a village of event sources. Events are
 * real envelopes (UUIDv7 ids, seq from 1, `gateway.started` announcing firstSeq), so the
 * county's delivery checker judges them as it judges an agent's.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import pino from 'pino';
import type { GatewayEvent, Priority } from '../../core/contracts/event.js';
import { uuidv7 } from '../../core/kernel/uuidv7.js';
import { Uplink } from '../../agent/uplink/uplink.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { MemoryOutbox } from './fleet-outbox.js';

/** What one village sends, on average. */
export interface VillageRate {
  /** Telemetry sensors, each reporting `readingsPerMin` times a minute (`sensor.telemetry`, normal). */
  sensors: number;
  readingsPerMin: number;
  /** Door openings an hour (`door.opened` then `door.closed`, high). */
  doorsPerHour: number;
  /** Panic-button presses an hour (`alarm.pressed`, critical: sent alone and first). */
  alarmsPerHour: number;
  /** `gateway.health` (low, on the health topic) every this many seconds; 0: none. */
  healthSec: number;
}

export const VILLAGE: VillageRate = {
  sensors: 20,
  readingsPerMin: 1,
  doorsPerHour: 30,
  alarmsPerHour: 2,
  healthSec: 60,
};

export interface TwinOptions {
  gatewayId: string;
  url: string;
  protocolVersion: 4 | 5;
  /** Overrides of the gateway config's `mqtt` section (the agent's defaults otherwise). */
  mqtt?: Record<string, unknown>;
}

const silent = pino({ level: 'silent' });

export class GatewayTwin {
  readonly outbox = new MemoryOutbox();
  readonly uplink: Uplink;
  readonly bootId = randomUUID();
  /** Every event put in the outbox (the twin's "committed"). */
  produced = 0;
  private seq = 0;
  private readonly held: GatewayEvent[][] = [];
  private readonly started = performance.now();
  /** Fractional events owed per source, carried between ticks so rates below one a tick still come out right. */
  private owed = { telemetry: Math.random(), health: Math.random() };

  constructor(readonly opts: TwinOptions) {
    const config = gatewayConfigSchema.parse({
      version: 1,
      gateway: { id: opts.gatewayId },
      dataDir: tmpdir(),
      mqtt: { url: opts.url, protocolVersion: opts.protocolVersion, ...opts.mqtt },
    }).mqtt;
    this.uplink = new Uplink({
      config,
      baseDir: tmpdir(),
      gatewayId: opts.gatewayId,
      identity: { bootId: this.bootId, version: 'fleet-twin', configHash: 'fleet' },
      outbox: this.outbox,
      logger: silent,
    });
  }

  /** Connects (the agent's reconnect loop from here on) and announces the boot, as the agent does. */
  start(): void {
    this.uplink.start();
    this.put([this.event('gateway.started', 'high', this.opts.gatewayId, { version: 'fleet-twin', firstSeq: 1 })]);
  }

  /**
   * `n` telemetry readings at once: a backlog, as after an outage. Stored in groups of at most
   * 1,000, as the outbox's group commits tell the drain (the drain spreads each group into one
   * call). With `hold`, stored but the drain is not told until `release()`: the backlog sits in
   * the outbox, ready, when the "link comes back", and its making is not in a measured time.
   */
  backlog(n: number, hold = false): void {
    for (let done = 0; done < n; done += 1000) {
      const events: GatewayEvent[] = [];
      for (let i = done; i < Math.min(n, done + 1000); i++) events.push(this.telemetry(i % 20));
      this.produced += events.length;
      this.outbox.put(events, !hold);
      if (hold) this.held.push(events);
    }
  }

  /** Tells the drain about a held backlog. */
  release(): void {
    for (const events of this.held.splice(0)) this.outbox.notify(events);
  }

  /** The events a village makes in `dtSec` seconds at `rate` (Poisson-ish for doors and alarms). */
  tick(rate: VillageRate, dtSec: number): void {
    const events: GatewayEvent[] = [];
    this.owed.telemetry += ((rate.sensors * rate.readingsPerMin) / 60) * dtSec;
    for (; this.owed.telemetry >= 1; this.owed.telemetry -= 1)
      events.push(this.telemetry(Math.floor(Math.random() * rate.sensors)));
    if (Math.random() < (rate.doorsPerHour / 3600) * dtSec) {
      const door = `door-${1 + Math.floor(Math.random() * 3)}`;
      events.push(this.event('door.opened', 'high', door, { state: 'open' }));
      events.push(this.event('door.closed', 'high', door, { state: 'closed' }));
    }
    if (Math.random() < (rate.alarmsPerHour / 3600) * dtSec)
      events.push(this.event('alarm.pressed', 'critical', `panic-${1 + Math.floor(Math.random() * 8)}`, { line: 1 }));
    if (rate.healthSec > 0) {
      this.owed.health += dtSec / rate.healthSec;
      for (; this.owed.health >= 1; this.owed.health -= 1)
        events.push(this.event('gateway.health', 'low', this.opts.gatewayId, { backlog: this.outbox.size }));
    }
    this.put(events);
  }

  stop(): Promise<void> {
    return this.uplink.stop();
  }

  private put(events: GatewayEvent[]): void {
    this.produced += events.length;
    this.outbox.put(events);
  }

  private telemetry(sensor: number): GatewayEvent {
    const tempC = Math.round((4 + Math.random() * 12) * 10) / 10;
    return this.event('sensor.telemetry', 'normal', `sensor-${sensor + 1}`, { n: this.seq + 1, tempC, rh: 61 });
  }

  private event(type: string, priority: Priority, deviceId: string, data: Record<string, unknown>): GatewayEvent {
    const now = Date.now();
    this.seq += 1;
    return {
      id: uuidv7(now),
      seq: this.seq,
      bootId: this.bootId,
      gatewayId: this.opts.gatewayId,
      deviceId,
      type,
      priority,
      ts: new Date(now).toISOString(),
      monoMs: Math.round((performance.now() - this.started) * 1000) / 1000,
      clockSynced: true,
      data,
    };
  }
}
