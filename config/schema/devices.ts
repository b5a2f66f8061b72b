/**
 * Devices and buses: what a gateway's config says is wired to it. Each device names its
 * driver (synthetic, modbus, serial, modem); a field device also names its profile (the
 * brand's registers, line format or AT dialect), and binds the profile's inputs to roles.
 */
import { z } from 'zod';
import { nameSchema } from '../../core/contracts/event.js';
import { CAMERA_ALARM_EVENTS } from '../../core/contracts/events/catalogue.js';
import { intIn, pathString, secretRef } from './fields.js';
import { PROFILE_ID, PROFILE_ID_MESSAGE } from './profile.js';

/** A profile by id only (profiles/<id>.yaml beside the config, or built in): never a path. */
const profileRef = z
  .string()
  .regex(PROFILE_ID, { error: (iss) => `${PROFILE_ID_MESSAGE} (got ${JSON.stringify(iss.input)})` })
  .describe('Profile id: profiles/<id>.yaml beside the config file, else the built-in one');

const serialLine = {
  path: pathString.describe('Prefer /dev/serial/by-id/... (stable across re-plugging)'),
  baudRate: z.literal([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]).default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  dataBits: z.literal([7, 8]).default(8),
  stopBits: z.literal([1, 2]).default(1),
};

export const busSchema = z.discriminatedUnion('type', [
  z.strictObject({
    id: nameSchema,
    type: z.literal('modbus-rtu'),
    ...serialLine,
    timeoutMs: intIn(20, 10000).default(300),
  }),
  z.strictObject({
    id: nameSchema,
    type: z.literal('modbus-tcp'),
    host: z.string().min(1),
    port: intIn(1, 65535).default(502),
    timeoutMs: intIn(20, 10000).default(1000),
  }),
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

/** Which raw level counts as "active" (door open, button pressed, camera alarm). */
const activeLevel = z
  .enum(['high', 'low'])
  .default('high')
  .describe('high: a raw 1 is active; low: a raw 0 is (e.g. normally-closed contacts)');
const debounceMs = intIn(0, 60000);

/** What is wired to an input: the role decides which events it produces. */
export const inputRoleSchema = z.discriminatedUnion('role', [
  z.strictObject({
    role: z.literal('door'),
    id: nameSchema.optional(),
    activeLevel,
    debounceMs: debounceMs.default(50),
  }),
  z.strictObject({
    role: z.literal('alarm-button'),
    id: nameSchema.optional(),
    activeLevel,
    debounceMs: debounceMs.default(0),
    led: z.string().optional().describe('Output of the same device lit when help is coming'),
  }),
  z.strictObject({
    role: z.literal('camera-alarm'),
    id: nameSchema.optional(),
    activeLevel,
    debounceMs: debounceMs.default(0),
    event: z.enum(CAMERA_ALARM_EVENTS).default('camera.motion'),
    snapshotUrl: z.string().url().optional(),
  }),
  z.strictObject({
    role: z.literal('input'),
    id: nameSchema.optional(),
    activeLevel,
    debounceMs: debounceMs.default(0),
  }),
  z
    .strictObject({
      role: z.literal('ack-key'),
      id: nameSchema.optional(),
      activeLevel,
      debounceMs: debounceMs.default(50),
    })
    .describe("A technician's key switch: turning it acknowledges every active alert locally"),
]);
export type InputRole = z.infer<typeof inputRoleSchema>;

/** The device id an input's events carry: the role's own id, else `<device>.<input>` (rules and tags match on it). */
export const inputEventDeviceId = (deviceId: string, input: string, role: Pick<InputRole, 'id'>): string =>
  role.id ?? `${deviceId}.${input}`;

const unitId = z
  .number({ error: (iss) => `must be a number (got ${JSON.stringify(iss.input)})` })
  .refine((v) => Number.isInteger(v) && ((v >= 1 && v <= 247) || v === 255), {
    error: (iss) => `must be 1..247, or 255 for boards that ship with it (got ${JSON.stringify(iss.input)})`,
  });

const modbusDevice = z.strictObject({
  id: nameSchema,
  driver: z.literal('modbus'),
  bus: nameSchema,
  unitId,
  profile: profileRef,
  pollMs: intIn(20, 3600000).default(200),
  offlineAfter: intIn(1, 100).default(3).describe('Failed polls in a row before the device is reported offline'),
  inputs: z
    .record(z.string(), inputRoleSchema)
    .default({})
    .describe('Profile inputs in use, and what is wired to them'),
  outputs: z
    .record(
      z.string(),
      z.strictObject({
        id: nameSchema.optional(),
        remote: z.boolean().default(false).describe('May the county drive it'),
        flowWritable: z.boolean().default(false).describe('May a Node-RED flow drive it (village out)'),
      }),
    )
    .default({}),
  tags: z.array(z.string()).default([]),
});
export type ModbusDeviceConfig = z.infer<typeof modbusDevice>;

const serialDevice = z.strictObject({
  id: nameSchema,
  driver: z.literal('serial'),
  ...serialLine,
  baudRate: z
    .literal([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200])
    .optional()
    .describe("Default: the profile's"),
  profile: profileRef,
  sensors: z
    .record(
      z.string(),
      z.strictObject({
        id: nameSchema,
        role: z.enum(['door', 'alarm-button', 'camera', 'motion', 'sensor']).default('sensor'),
      }),
    )
    .default({})
    .describe('Sensors heard on this line, by the id the profile decodes (e.g. an EV1527 code)'),
  reportUnknown: z.boolean().default(true).describe('Report records from sensors not listed (to pair new ones)'),
  offlineAfterSec: intIn(1, 86400)
    .optional()
    .describe('No decoded record for this long: device.offline (reason silent), device.online at the next record'),
  tags: z.array(z.string()).default([]),
});
export type SerialDeviceConfig = z.infer<typeof serialDevice>;

const modemDevice = z.strictObject({
  id: nameSchema,
  driver: z.literal('modem'),
  ...serialLine,
  baudRate: z.literal([9600, 19200, 38400, 57600, 115200]).optional().describe("Default: the profile's"),
  profile: profileRef,
  statusPollSec: intIn(5, 86400).default(60).describe('How often signal and registration are read'),
  tags: z.array(z.string()).default([]),
});
export type ModemDeviceConfig = z.infer<typeof modemDevice>;

/** A networked camera (Hikvision ISAPI, Dahua CGI, ONVIF): its brand is its profile. */
const cameraDevice = z.strictObject({
  id: nameSchema,
  driver: z.literal('camera'),
  profile: profileRef,
  host: z.string().min(1).describe("The camera's address on the village LAN"),
  port: intIn(1, 65535).optional().describe("Default: the profile's (80)"),
  channels: z.array(intIn(1, 256)).default([]).describe('Report only these channels (empty: all)'),
  user: z.string().min(1),
  password: secretRef.describe('Prefer {env} or {file}: the camera account'),
  idleTimeoutMs: intIn(200, 600000).optional().describe("No part for this long: reconnect (default: the profile's)"),
  snapshotTimeoutMs: intIn(200, 120000)
    .optional()
    .describe("A picture not whole within this long is given up (default: the profile's snapshot.timeoutSec)"),
  debounceMs: intIn(0, 3600000)
    .optional()
    .describe("One event per type, channel and region this often (default: the profile's)"),
  stateTimeoutSec: intIn(10, 86400)
    .optional()
    .describe("A state not repeated within this long ends with reason timeout (default: the profile's, 600)"),
  reconnect: z
    .strictObject({ minMs: intIn(50, 600000).default(1000), maxMs: intIn(100, 3600000).default(60000) })
    .prefault({}),
  authRetry: z
    .strictObject({
      minMs: intIn(100, 86400000).default(300000),
      maxMs: intIn(100, 86400000).default(3600000),
    })
    .prefault({})
    .describe('After a refused password: the first wait (5 min) and the longest (1 h), so the account never locks'),
  tags: z.array(z.string()).default([]),
});
export type CameraDeviceConfig = z.infer<typeof cameraDevice>;

export const deviceSchema = z.discriminatedUnion('driver', [
  syntheticDevice,
  modbusDevice,
  serialDevice,
  modemDevice,
  cameraDevice,
]);
export type DeviceConfig = z.infer<typeof deviceSchema>;
export type SyntheticDeviceConfig = z.infer<typeof syntheticDevice>;
