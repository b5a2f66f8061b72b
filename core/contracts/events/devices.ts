/** Field devices coming and going, and the modem's network registration. */
import { z } from 'zod';
import { spec } from './define.js';
import { CAMERA_PROTOCOLS } from './inputs.js';

/** A serial device (receiver line or modem) names its port; a Modbus unit its unit id and bus. */
const serialPort = { path: z.string().describe('The serial port') };
const modbusUnit = { unitId: z.int(), bus: z.string() };
/** A networked camera names where it is and how it is read. */
const cameraLink = {
  host: z.string().describe("The camera's address"),
  protocol: z.enum(CAMERA_PROTOCOLS),
};

export const deviceEvents = {
  'device.online': spec(
    'high',
    z.union([
      z.strictObject({
        ...serialPort,
        reason: z.literal('record').optional().describe('A silent receiver decoded a record again'),
      }),
      z.strictObject(modbusUnit),
      z.strictObject({ ...cameraLink, reason: z.literal('stream').describe("The camera's event stream is up again") }),
    ]),
    'a device answers again (a serial port reopened, a Modbus unit answered, a silent receiver heard, a camera stream back)',
  ),
  'device.offline': spec(
    'high',
    z.union([
      z.strictObject({
        ...serialPort,
        reason: z.string(),
        silentForSec: z.int().min(0).optional().describe('With reason "silent": no record for that long'),
      }),
      z.strictObject({ ...modbusUnit, error: z.string(), code: z.string().nullable() }),
      z.strictObject({
        ...cameraLink,
        reason: z
          .enum(['auth', 'silent', 'closed', 'refused', 'not-a-stream', 'error'])
          .describe('auth: wrong user or password; silent: no part within the idle time; not-a-stream: not multipart'),
        error: z.string(),
        code: z.string().nullable(),
      }),
    ]),
    'a device stopped answering (port gone, unit silent for `offlineAfter` polls, receiver silent for `offlineAfterSec`, a camera stream lost)',
  ),
  'modem.registration': spec(
    'normal',
    z.strictObject({
      rssi: z.int().nullable(),
      dbm: z.number().nullable(),
      registration: z.string().nullable(),
      registered: z.boolean(),
    }),
    "the modem's network registration changed (high when it is not registered)",
  ),
};
