/**
 * One reading of the modest village's radio sensors, as an rtl_433 receiver decodes it (20
 * Acurite towers). Random values so compression is not flattered. Shared by the bytes benchmark
 * and the wire dictionary's test, which must measure the same shape.
 */
import type { EventInput } from '../../core/contracts/event.js';
import { profileEventType } from '../../core/contracts/events/catalogue.js';

export const VILLAGE_SENSORS = 20;

/** The `i`-th reading of the village: sensor `i % 20`. */
export function villageReading(i: number): EventInput & { deviceId: string; data: Record<string, unknown> } {
  const sensor = i % VILLAGE_SENSORS;
  return {
    deviceId: `t${String(sensor + 1).padStart(2, '0')}`,
    type: profileEventType('sensor.reading'), // a profile's own type, as a radio receiver maps it
    priority: 'normal',
    data: {
      model: 'Acurite-Tower',
      id: 1000 + sensor * 37,
      channel: 'A',
      battery_ok: 1,
      temperature_C: Math.round((10 + Math.random() * 20) * 10) / 10,
      humidity: Math.round(30 + Math.random() * 60),
      line: 'rf',
    },
  };
}
