/**
 * From decoded fields to an event: which sensor it is (the device config's `sensors`, by
 * the profile's sensorField), then the first profile rule whose `when` matches (the
 * sensor's role can be matched as `role`). Repeats within the profile's window are dropped:
 * a 433 MHz remote sends the same code many times per press. Rules are compiled once; this
 * runs for every record on the line.
 */
import type { EventInput, Priority } from '../../core/contracts/event.js';
import { profileEventType, type ProfileEventType } from '../../core/contracts/events/catalogue.js';
import type { SerialDeviceConfig } from '../../config/schema/devices.js';
import type { SerialProfile } from '../../config/schema/profile.js';
import type { Fields } from './record-decoder.js';

export interface MapperCounters {
  events: number;
  repeats: number;
  unknownSensors: number;
  unmatched: number;
}

interface CompiledRule {
  role: string | undefined;
  fields: [string, string][]; // field name, expected value lower-cased
  /** Checked against the catalogue by the factory if it is a catalogued type (see catalogue.ts). */
  type: ProfileEventType;
  priority: Priority;
}

type Sensor = SerialDeviceConfig['sensors'][string];

const lower = (v: string | number | boolean | undefined): string =>
  typeof v === 'string' ? v.toLowerCase() : String(v);

export class EventMapper {
  readonly counters: MapperCounters = { events: 0, repeats: 0, unknownSensors: 0, unmatched: 0 };
  private last: { key: string; atMs: number } | null = null;
  private readonly rules: CompiledRule[];
  private readonly sensors = new Map<string, Sensor>();

  constructor(
    private readonly profile: SerialProfile,
    private readonly device: SerialDeviceConfig,
  ) {
    this.rules = profile.events.map((r) => ({
      role: r.when.role === undefined ? undefined : String(r.when.role),
      fields: Object.entries(r.when)
        .filter(([k]) => k !== 'role')
        .map(([k, v]) => [k, String(v).toLowerCase()] as [string, string]),
      type: profileEventType(r.type),
      priority: r.priority,
    }));
    // Sensor ids match case-insensitively (hex codes are written either way).
    for (const [key, s] of Object.entries(device.sensors)) this.sensors.set(key.toUpperCase(), s);
  }

  map(fields: Fields, nowMs: number): EventInput | null {
    if (this.profile.repeatWindowMs > 0 && this.isRepeat(fields, nowMs)) return null;
    const field = this.profile.sensorField;
    const sensorKey = field !== undefined ? fields[field] : undefined;
    const sensor = sensorKey === undefined ? undefined : this.sensors.get(String(sensorKey).toUpperCase());
    if (field !== undefined && !sensor) {
      this.counters.unknownSensors += 1;
      if (!this.device.reportUnknown) return null;
      this.counters.events += 1;
      return {
        deviceId: this.device.id,
        type: 'sensor.unknown',
        priority: 'low',
        data: Object.assign(fields, { line: this.device.id }),
      };
    }
    const role = sensor?.role;
    const rule = this.rules.find(
      (r) => (r.role === undefined || r.role === role) && r.fields.every(([k, want]) => lower(fields[k]) === want),
    );
    if (!rule) {
      this.counters.unmatched += 1;
      return null;
    }
    this.counters.events += 1;
    // The fields object is ours (the decoder made it for this record): it becomes the data.
    const data: Record<string, unknown> = fields;
    data.line = this.device.id;
    if (role) data.role = role;
    return { deviceId: sensor?.id ?? this.device.id, type: rule.type, priority: rule.priority, data };
  }

  private isRepeat(fields: Fields, nowMs: number): boolean {
    const key = JSON.stringify(fields);
    if (this.last && this.last.key === key && nowMs - this.last.atMs < this.profile.repeatWindowMs) {
      this.last.atMs = nowMs;
      this.counters.repeats += 1;
      return true;
    }
    this.last = { key, atMs: nowMs };
    return false;
  }
}
