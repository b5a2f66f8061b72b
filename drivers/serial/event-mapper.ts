/**
 * From decoded fields to an event: which sensor it is (the device config's `sensors`, by
 * the profile's sensorField), then the first profile rule whose `when` matches (the
 * sensor's role can be matched as `role`). Repeats within the profile's window are dropped:
 * a 433 MHz remote sends the same code many times per press.
 */
import type { EventInput } from '../../agent/contracts/event.js';
import type { SerialDeviceConfig } from '../../config/schema/devices.js';
import type { SerialProfile } from '../../config/schema/profile.js';
import type { Fields } from './record-decoder.js';

export interface MapperCounters {
  events: number;
  repeats: number;
  unknownSensors: number;
  unmatched: number;
}

export class EventMapper {
  readonly counters: MapperCounters = { events: 0, repeats: 0, unknownSensors: 0, unmatched: 0 };
  private last: { key: string; atMs: number } | null = null;

  constructor(
    private readonly profile: SerialProfile,
    private readonly device: SerialDeviceConfig,
  ) {}

  map(fields: Fields, nowMs: number): EventInput | null {
    const key = JSON.stringify(fields);
    if (this.profile.repeatWindowMs > 0 && this.last && this.last.key === key && nowMs - this.last.atMs < this.profile.repeatWindowMs) {
      this.last.atMs = nowMs;
      this.counters.repeats += 1;
      return null;
    }
    this.last = { key, atMs: nowMs };
    const field = this.profile.sensorField;
    const sensorKey = field !== undefined ? fields[field] : undefined;
    const sensor = sensorKey === undefined ? undefined : (this.device.sensors[String(sensorKey)] ?? this.device.sensors[String(sensorKey).toUpperCase()]);
    const data = { line: this.device.id, ...fields };
    if (field !== undefined && !sensor) {
      this.counters.unknownSensors += 1;
      if (!this.device.reportUnknown) return null;
      this.counters.events += 1;
      return { deviceId: this.device.id, type: 'sensor.unknown', priority: 'low', data };
    }
    const role = sensor?.role;
    const rule = this.profile.events.find((r) =>
      Object.entries(r.when).every(([k, want]) => (k === 'role' ? role === want : String(fields[k]).toLowerCase() === String(want).toLowerCase())),
    );
    if (!rule) {
      this.counters.unmatched += 1;
      return null;
    }
    this.counters.events += 1;
    return { deviceId: sensor?.id ?? this.device.id, type: rule.type, priority: rule.priority, data: { ...data, ...(role ? { role } : {}) } };
  }
}
