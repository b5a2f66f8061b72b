/**
 * A device profile: what one product is and how to talk to it, as data. Adding a brand is
 * adding one of these files (config/profiles/<id>.yaml) and a config entry, no code.
 */
import { z } from 'zod';
import { profileMayDeclare } from '../../core/contracts/events/catalogue.js';
import { cameraProfileFields } from './camera-profile.js';
import { intIn } from './fields.js';

const address = intIn(0, 65535);
export const modbusTableSchema = z.enum(['coil', 'discrete', 'holding', 'input']);
export type ModbusTable = z.infer<typeof modbusTableSchema>;

/** One readable point. A register point may be a single bit of a bitmap register. */
const modbusPoint = z.strictObject({
  table: modbusTableSchema,
  address,
  bit: intIn(0, 15).optional().describe('For bitmap registers: the bit (0 = least significant)'),
  type: z.enum(['bool', 'uint16', 'int16', 'uint32', 'int32', 'float32']).default('bool'),
  wordOrder: z.enum(['big', 'little']).default('big').describe('For 32-bit values: which register holds the high word'),
  byteOrder: z.enum(['big', 'little']).default('big').describe('Within each register'),
  scale: z.number().default(1),
  description: z.string().optional(),
});
export type ModbusPoint = z.infer<typeof modbusPoint>;

/** How to drive an output: plain on/off, and optionally the device's own timed pulse ("flash"). */
const modbusOutput = z.strictObject({
  write: z.discriminatedUnion('table', [
    z.strictObject({ table: z.literal('coil'), address }),
    z.strictObject({ table: z.literal('holding'), address, on: intIn(0, 65535), off: intIn(0, 65535) }),
  ]),
  pulse: z
    .strictObject({
      functionCode: z.literal([5, 6]).describe('5: write single coil with a raw value; 6: write single register'),
      address,
      /** The value written: the pulse length in `unitMs` steps, added to `base`. */
      base: intIn(0, 65535).default(0),
      unitMs: intIn(1, 60000),
      maxUnits: intIn(1, 65535),
    })
    .optional()
    .describe("The device's own timed pulse; without it the gateway times the pulse itself"),
  description: z.string().optional(),
});

/**
 * A profile id is also its file name (`profiles/<id>.yaml`), so it is a plain name: no `/`,
 * no `..`, nothing a config could use to point the loader at another file.
 */
export const PROFILE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const PROFILE_ID_MESSAGE =
  'must be a profile id such as waveshare-modbus-rtu-relay-d (1-64 lower-case letters, digits and -): the file is profiles/<id>.yaml beside the config, or a built-in one';

const profileHead = {
  $schema: z.string().optional(),
  version: z.literal(1),
  id: z
    .string()
    .regex(PROFILE_ID, { error: 'must be 1-64 lower-case letters, digits and - (starting with a letter or digit)' }),
  vendor: z.string().min(1),
  model: z.string().min(1),
  source: z.array(z.string().min(1)).min(1).describe('Where these facts come from (manual, wiki, driver source)'),
  quirks: z.array(z.string()).default([]),
};

const modbusProfile = z.strictObject({
  ...profileHead,
  transport: z.literal('modbus'),
  defaults: z
    .strictObject({
      unitId: intIn(0, 255),
      baudRate: z.number().int().positive().default(9600),
      parity: z.enum(['none', 'even', 'odd']).default('none'),
    })
    .describe('Factory settings, for the technician'),
  limits: z
    .strictObject({
      maxReadRegisters: intIn(1, 125).default(125),
      maxReadBits: intIn(1, 2000).default(2000),
      /** Some boards only answer bit reads of exactly this many (e.g. LC boards: 8). */
      bitReadQuantity: intIn(1, 2000).optional(),
    })
    .default({ maxReadRegisters: 125, maxReadBits: 2000 }),
  inputs: z
    .record(z.string().regex(/^[a-z0-9_]+$/), modbusPoint)
    .refine((r) => Object.keys(r).length > 0, { error: 'a profile needs at least one input' }),
  outputs: z.record(z.string().regex(/^[a-z0-9_]+$/), modbusOutput).default({}),
});

const byteList = z.array(intIn(0, 255)).min(1);

/** How bytes on the line become records: text lines, or binary frames. */
const framing = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('line'),
    delimiter: z.enum(['\n', '\r\n', '\r']).default('\n'),
    maxLength: intIn(8, 65536)
      .default(1024)
      .describe('Longer lines are dropped (and counted), never buffered without end'),
  }),
  z.strictObject({
    kind: z.literal('frame'),
    header: byteList.optional(),
    footer: byteList.optional(),
    length: intIn(1, 4096).optional().describe('Fixed frame length, header and footer included'),
    maxLength: intIn(2, 4096).default(64),
    interByteTimeoutMs: intIn(1, 5000)
      .default(50)
      .describe('A gap this long inside a frame discards it (partial frame)'),
  }),
]);

/** How a record becomes named fields. */
const decode = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('regex'), pattern: z.string().min(1).describe('Named groups become fields') }),
  z.strictObject({
    kind: z.literal('csv'),
    columns: z.array(z.string().min(1)).min(1),
    separator: z.string().length(1).default(','),
  }),
  z.strictObject({
    kind: z.literal('json'),
    require: z.array(z.string()).default([]).describe('Fields a record must have'),
  }),
  z
    .strictObject({
      kind: z.literal('ev1527'),
      codeOffset: intIn(0, 4096).describe('Where the 3 code bytes start in the frame'),
      description: z.string().optional(),
    })
    .describe('24-bit EV1527 code: fields code (hex), sensor (20-bit id, hex) and key (4 bits)'),
]);

const fieldValue = z.union([z.string(), z.number(), z.boolean()]);

/** A rule: when the fields (and the sensor's role) match, emit this event. First match wins. */
const eventRule = z.strictObject({
  when: z
    .record(z.string(), fieldValue)
    .default({})
    .describe('Field values to match; "role" matches the sensor role from the device config'),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, { error: 'must be dotted lower-case, e.g. door.opened' })
    // A decoded record cannot be a gateway.started or an sms.sent: the factory would refuse every one of them.
    .refine(profileMayDeclare, {
      error:
        "is an event type of the gateway's own whose payload a receiver cannot produce (see core/contracts/events/)",
    }),
  priority: z.enum(['critical', 'high', 'normal', 'low']),
});

const serialProfile = z.strictObject({
  ...profileHead,
  transport: z.literal('serial'),
  defaults: z.strictObject({ baudRate: z.number().int().positive().default(9600) }),
  framing,
  decode,
  /** Bytes written back after each record (e.g. Sonoff RF Bridge wants AA A0 55). */
  ack: byteList.optional(),
  sensorField: z.string().optional().describe('The field that identifies the sensor (maps to devices[].sensors)'),
  repeatWindowMs: intIn(0, 60000)
    .default(0)
    .describe('The same record again within this window is a repeat (433 MHz senders repeat)'),
  events: z.array(eventRule).min(1),
});

/** A GSM/LTE modem driven by AT commands: its dialect as data. */
const modemProfile = z.strictObject({
  ...profileHead,
  transport: z.literal('modem'),
  defaults: z.strictObject({ baudRate: z.number().int().positive().default(115200) }),
  init: z
    .array(z.string().regex(/^AT/, { error: 'must be an AT command' }))
    .default(['ATE0', 'AT+CMEE=1'])
    .describe('Sent after the line opens'),
  registration: z
    .array(z.enum(['CREG', 'CGREG', 'CEREG']))
    .min(1)
    .default(['CREG'])
    .describe('LTE modules: poll CEREG as well'),
  csq: z.enum(['27.007', 'sim800']).default('27.007').describe('Which rssi -> dBm scale the manual prints'),
  sms: z
    .strictObject({
      ucs2Csmp: z.string().default('17,167,0,8').describe('AT+CSMP parameters for UCS2 text (dcs 8)'),
      gsmCsmp: z.string().default('17,167,0,0'),
      sendTimeoutMs: intIn(1000, 180000).default(60000),
    })
    .default({ ucs2Csmp: '17,167,0,8', gsmCsmp: '17,167,0,0', sendTimeoutMs: 60000 }),
});

/** A networked camera: its brand's protocol and event codes (camera-profile.ts). */
const cameraProfile = z.strictObject({ ...profileHead, ...cameraProfileFields });

export const profileSchema = z.discriminatedUnion('transport', [
  modbusProfile,
  serialProfile,
  modemProfile,
  cameraProfile,
]);
export type CameraProfile = z.infer<typeof cameraProfile>;
export type ModemProfile = z.infer<typeof modemProfile>;

export type ModbusProfile = z.infer<typeof modbusProfile>;
export type SerialProfile = z.infer<typeof serialProfile>;
export type SerialDecode = SerialProfile['decode'];
export type DeviceProfile = z.infer<typeof profileSchema>;
