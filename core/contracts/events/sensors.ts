/** Readings: telemetry and radio sensors the gateway does not know yet. */
import { z } from 'zod';
import { receivedData, spec } from './define.js';

export const sensorEvents = {
  // A meter reports whatever it measures: the readings are named by the device, not by us.
  'sensor.telemetry': spec(
    'normal',
    z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).describe('Readings by name'),
    'readings (the synthetic driver: a counter `n`, `tempC` and padding)',
  ),
  'sensor.unknown': spec(
    'low',
    receivedData,
    'a serial receiver decoded a sensor id its config does not list (`reportUnknown`), so a technician can pair it',
  ),
};
