/**
 * Devices and buses. The synthetic driver runs today; Modbus and serial entries are the
 * config contract the field drivers (issue 3) implement: they validate now, and the agent
 * refuses to run one until its driver exists, saying so.
 */
import { z } from 'zod';
import { nameSchema } from '../../agent/contracts/event.js';
import { intIn } from './fields.js';

const serialLine = {
  path: z.string().min(1).describe('Prefer /dev/serial/by-id/... (stable across re-plugging)'),
  baudRate: z.literal([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]).default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  dataBits: z.literal([7, 8]).default(8),
  stopBits: z.literal([1, 2]).default(1),
};

export const busSchema = z.discriminatedUnion('type', [
  z.strictObject({ id: nameSchema, type: z.literal('modbus-rtu'), ...serialLine, timeoutMs: intIn(20, 10000).default(300) }),
  z.strictObject({ id: nameSchema, type: z.literal('modbus-tcp'), host: z.string().min(1), port: intIn(1, 65535).default(502), timeoutMs: intIn(20, 10000).default(1000) }),
]);

const syntheticDevice = z.strictObject({
  id: nameSchema,
  driver: z.literal('synthetic'),
  tags: z.array(z.string()).default([]),
  rates: z
    .strictObject({
      doorPerSec: z.number().min(0).max(10000).default(0.1),
      buttonPerSec: z.number().min(0).max(10000).default(0.01),
      telemetryPerSec: z.number().min(0).max(100000).default(1),
    })
    .default({ doorPerSec: 0.1, buttonPerSec: 0.01, telemetryPerSec: 1 }),
  telemetryBytes: intIn(0, 60000).default(64).describe('Padding in each telemetry event, to model payload size'),
});

const modbusDevice = z.strictObject({
  id: nameSchema,
  driver: z.literal('modbus'),
  bus: nameSchema,
  unitId: intIn(1, 247),
  profile: z.string().min(1).describe('Profile name under config/profiles/ or a path'),
  pollMs: intIn(20, 3600000).default(200),
  tags: z.array(z.string()).default([]),
});

const serialDevice = z.strictObject({
  id: nameSchema,
  driver: z.literal('serial'),
  ...serialLine,
  profile: z.string().min(1),
  tags: z.array(z.string()).default([]),
});

export const deviceSchema = z.discriminatedUnion('driver', [syntheticDevice, modbusDevice, serialDevice]);
export type DeviceConfig = z.infer<typeof deviceSchema>;
export type SyntheticDeviceConfig = z.infer<typeof syntheticDevice>;
