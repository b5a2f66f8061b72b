/**
 * The gateway config file (YAML or JSON). One schema; the TypeScript types are inferred
 * from it and the JSON Schema under config/schemas/ is generated from it.
 */
import { mediaSchema } from './media.js';
import { z } from 'zod';
import { countySchema } from './county.js';
import { nameSchema } from '../../core/contracts/event.js';
import { byteSize, intIn, pathString, phoneNumberSchema, secretRef } from './fields.js';
import { clientIdSchema, topicPrefixSchema } from './mqtt-names.js';
import { WIRE_LIMITS } from '../../core/contracts/wire-limits.js';
import { COMPRESSIONS } from '../../core/contracts/wire-payload.js';
import { deviceSchema, busSchema } from './devices.js';
import { DEFAULT_LANGUAGE, LANGUAGES } from '../../core/contracts/languages.js';
import { ruleSchema } from './rules.js';
import { nodeRedSchema } from './node-red.js';

export { EDITOR_PASSWORD_MAX_BYTES, EDITOR_PASSWORD_MIN, editorPasswordProblem, nodeRedSchema } from './node-red.js';
import { didYouMean } from '../did-you-mean.js';
import { eventIdProblems } from './event-ids.js';
import { ruleRefProblems, snapshotCameraProblems } from './rule-refs.js';

/**
 * The wire format (docs/county.md, "MQTT contract"). Absent: `json`, today's format, so a gateway whose
 * config predates this key keeps talking to the county's existing subscriber (which does not
 * subscribe to `<prefix>/events/batch` and would lose the compact batches without a word).
 * `compact` is the village default in the example and demo configs: it is switched on together
 * with the county's subscriber, never by an upgrade alone.
 */
const WIRE_DEFAULTS = { format: 'json', compression: 'deflate', lingerMs: 60_000, health: 'topic' } as const;
const wireSchema = z
  .strictObject({
    format: z
      .enum(['json', 'compact'])
      .default(WIRE_DEFAULTS.format)
      .describe(
        'json: one envelope a message, or a v1 JSON batch when a backlog exists, on <prefix>/events; compact: non-critical events as compressed v2 batches on <prefix>/events/batch (critical events stay JSON on <prefix>/events)',
      ),
    compression: z
      .enum(COMPRESSIONS)
      .default(WIRE_DEFAULTS.compression)
      .describe(
        'compact batches: deflate (raw, node:zlib), deflate-dict1 (raw deflate with the preset dictionary config/wire/deflate-dict1.txt: the county needs that file), brotli (quality 4) or none',
      ),
    lingerMs: intIn(0, 3_600_000)
      .default(WIRE_DEFAULTS.lingerMs)
      .describe(
        'compact: normal and low events wait up to this long for a batch to fill (critical and high never wait). 60 s makes one batch a minute: 20 sensors reading once a minute give ~20 events a batch, ~0.13 of the JSON bytes',
      ),
    health: z
      .enum(['topic', 'batch'])
      .default(WIRE_DEFAULTS.health)
      .describe(
        'compact: where gateway.health goes. topic: a JSON envelope alone on <prefix>/health, as before (~1 KB a message). batch: in the compact batches on <prefix>/events/batch like any low event (it lingers with them; ~50-150 B with deflate-dict1), and nothing on <prefix>/health: switch it on once the county reads health from the batches',
      ),
  })
  .describe('How events travel to the county (absent: json, as before)');

export const mqttSchema = z.strictObject({
  url: z
    .string()
    .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, { error: 'must be a broker URL such as mqtts://county.example:8883' }),
  protocolVersion: z.literal([5, 4]).default(5).describe('5 = MQTT 5, 4 = MQTT 3.1.1'),
  clientId: clientIdSchema.optional().describe('Default: the gateway id (fixed, for a persistent session)'),
  topicPrefix: topicPrefixSchema
    .optional()
    .describe('Default: village/<gatewayId>. No + or #, no leading or trailing /, no control characters'),
  username: z.string().optional(),
  password: secretRef.optional(),
  tls: z
    .strictObject({
      ca: pathString.optional().describe('Path to the CA certificate (PEM)'),
      cert: pathString.optional().describe('Path to the client certificate (PEM)'),
      key: pathString.optional().describe('Path to the client key (PEM)'),
      keyPassphrase: secretRef.optional(),
      rejectUnauthorized: z.boolean().default(true),
      servername: z.string().optional(),
    })
    .optional(),
  keepaliveSec: intIn(5, 3600).default(60),
  connectTimeoutMs: intIn(1000, 120000).default(30000),
  sessionExpirySec: intIn(0, 4294967295)
    .default(7 * 24 * 3600)
    .describe('MQTT 5 session expiry; commands queue this long'),
  willDelaySec: intIn(0, 3600).default(30).describe('MQTT 5: a short blip does not flash offline'),
  topicAliases: z
    .boolean()
    .default(true)
    .describe(
      "MQTT 5: a topic goes whole once a connection, then as a 2-byte alias (when the broker allows aliases: Mosquitto's max_topic_alias, 10 by default). Subscribers see the whole topic either way; ~50 B saved a message",
    ),
  inflightWindow: intIn(1, 1000).default(20).describe('Unacknowledged publishes at most'),
  reconnect: z
    .strictObject({
      minMs: intIn(100, 600000).default(1000),
      maxMs: intIn(1000, 3600000).default(300000),
      jitter: z.number().min(0).max(1).default(0.5),
    })
    .default({ minMs: 1000, maxMs: 300000, jitter: 0.5 }),
  batch: z
    .strictObject({
      maxEvents: intIn(1, 10000).default(100),
      maxBytes: byteSize.default(65536).refine((n) => n <= WIRE_LIMITS.maxMessageBytes, {
        // A bigger batch would be refused by every county decoder (docs/county.md, "MQTT contract").
        message: `must be at most ${WIRE_LIMITS.maxMessageBytes} (the county's message size limit)`,
      }),
    })
    .default({ maxEvents: 100, maxBytes: 65536 }),
  replay: z
    .strictObject({
      messagesPerSec: z.number().min(0).default(50).describe('0 = unpaced'),
      burst: intIn(1, 100000).default(100),
    })
    .default({ messagesPerSec: 50, burst: 100 }),
  linkBudget: z
    .strictObject({
      queueMs: intIn(50, 60000)
        .default(500)
        .describe(
          'Airtime of data an alarm may find queued ahead of it on the link while the uplink grows into it (after a connect or an idle spell); once the rate stops growing the queue is held to 50 ms of airtime (or this, if smaller), at least 1 KB',
        ),
      messageMs: intIn(10, 60000).default(250).describe('Airtime of one message at most (batches are cut to fit)'),
    })
    .default({ queueMs: 500, messageMs: 250 })
    .describe('Alarms first on the wire: what is unacknowledged is bounded by the measured airtime, not only by count'),
  alarmRetry: z
    .strictObject({
      minMs: intIn(100, 600000).default(1000),
      maxMs: intIn(100, 600000).default(4000),
      ackTimeoutMs: intIn(1000, 600000)
        .default(10000)
        .describe('An alarm not acknowledged this long means a dead link: drop it and reconnect'),
      connectTimeoutMs: intIn(1000, 120000).default(15000).describe('Connect timeout while alarms wait'),
    })
    .default({ minMs: 1000, maxMs: 4000, ackTimeoutMs: 10000, connectTimeoutMs: 15000 })
    .describe(
      'While critical events wait and the link is down: retry within minMs-maxMs (jittered), not the long backoff',
    ),
  wire: wireSchema.default(WIRE_DEFAULTS),
});

const ageCaps = z.strictObject({
  high: intIn(1, 365 * 86400).optional(),
  normal: intIn(1, 365 * 86400).optional(),
  low: intIn(1, 365 * 86400).optional(),
});

const outboxSchema = z.strictObject({
  maxBytes: byteSize.default(256 * 1024 ** 2),
  criticalReserveBytes: byteSize.default(16 * 1024 ** 2).describe('Kept free for critical events'),
  diskReserveBytes: byteSize
    .default(8 * 1024 ** 2)
    .describe(
      'Written to disk (dataDir/reserve.bin, at most 10% of the file system) and let go for alarms when the disk fills up; 0 = none',
    ),
  // Up to 2 s (issue 21): every commit is an fsync, the card's dearest write; alarms and `high` never wait.
  groupCommitMs: intIn(1, 2000)
    .default(25)
    .describe(
      'Normal and low events are committed in groups at most this old (critical and high at once, taking the group along)',
    ),
  maxAgeSec: ageCaps.default({}).describe('Optional age caps per priority (critical is never aged out)'),
});

/**
 * The life of a button's "help is coming" LED (alarm-button `led`), lit when the county
 * acknowledges the alert the press raised. It goes out at whichever comes first: `offAfterSec`
 * after the acknowledgement, the county's `clear` command for that alert, or (offAtReset) the
 * button let go on site when it was still held at the acknowledgement. That last one is a
 * latching button (mushroom head, key reset) being reset: help has arrived. A momentary button
 * is let go long before the county answers, and pressing it again must not put the LED out, so
 * only a button still down at the ack counts. Kept in alarms.json: a restart keeps the deadline.
 */
export const HELP_LED_DEFAULTS = { offAfterSec: 1800, offAtReset: true } as const;
const helpLedSchema = z
  .strictObject({
    offAfterSec: intIn(0, 7 * 86400)
      .default(HELP_LED_DEFAULTS.offAfterSec)
      .describe(
        'The LED goes out this long after the county acknowledged (default 30 min; 0: only at a clear command or a reset on site)',
      ),
    offAtReset: z
      .boolean()
      .default(HELP_LED_DEFAULTS.offAtReset)
      .describe(
        'A button still held down when the county acknowledged (a latching button) puts its LED out when it is released (reset on site)',
      ),
  })
  .describe('When the "help is coming" LED lit by the county\'s ack goes out again');
export type HelpLedRule = z.infer<typeof helpLedSchema>;

export const gatewayConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1, { error: 'must be 1 (the only config version so far)' }),
    gateway: z.strictObject({
      id: nameSchema.describe('Unique per county; part of every topic'),
      name: z.string().optional(),
      timezone: z.string().default('UTC'),
    }),
    dataDir: pathString.describe('Where the outbox and state live (on the SD card)'),
    runtimeDir: pathString
      .optional()
      .describe(
        'A RAM folder (tmpfs, e.g. /run/village-gateway) for the views rewritten every few seconds (status.json, devices.json), to spare the SD card; dataDir keeps a copy every 10 minutes and at stop. Default: dataDir alone',
      ),
    log: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .default({ level: 'info' }),
    clock: z
      .strictObject({
        synced: z
          .enum(['timesyncd', 'always', 'never'])
          .default('timesyncd')
          .describe('timesyncd: synced once systemd-timesyncd says so; always: trust the clock (lab use)'),
      })
      .default({ synced: 'timesyncd' }),
    mqtt: mqttSchema,
    outbox: outboxSchema.default(outboxSchema.parse({})),
    media: mediaSchema,
    health: z.strictObject({ intervalSec: intIn(1, 86400).default(60) }).default({ intervalSec: 60 }),
    buses: z.array(busSchema).default([]),
    devices: z.array(deviceSchema).default([]),
    rules: z.array(ruleSchema).default([]),
    alarms: z
      .strictObject({
        smsTo: z.array(phoneNumberSchema).default([]),
        modem: nameSchema.optional().describe('The modem device for SMS (default: the only one configured)'),
        smsWhenUplinkDownSec: intIn(0, 86400)
          .default(60)
          .describe(
            'Alerts go by SMS once the uplink has been down this long (a critical alert goes sooner: unacknowledged by the broker within mqtt.alarmRetry.ackTimeoutMs)',
          ),
        escalateAfterSec: intIn(0, 86400)
          .default(120)
          .describe('An alert nobody acknowledged by then goes by SMS (0: never)'),
        smsLanguage: z
          .enum(LANGUAGES)
          .default(DEFAULT_LANGUAGE)
          .describe(
            "The language of the SMS the gateway writes around an alert's message (place, device, time) and of its own alarms' SMS: en or zh-CN (Chinese goes as UCS-2, 70 characters a part)",
          ),
        smsPerHour: intIn(1, 1000).default(20).describe("SMS an hour, residents' alarms and flows' alerts together"),
        flowSmsPerHour: intIn(0, 999)
          .optional()
          .describe(
            "What Node-RED flows' alerts may spend of smsPerHour (default: a quarter of it); the rest is kept for residents' alarms and the gateway's own",
          ),
        sirens: z
          .array(
            z.strictObject({ device: nameSchema, output: z.string().min(1), testMs: intIn(100, 60000).default(2000) }),
          )
          .default([])
          .describe('What the siren-test command sounds'),
        helpLed: helpLedSchema.default(HELP_LED_DEFAULTS),
      })
      .refine((a) => a.flowSmsPerHour === undefined || a.flowSmsPerHour < a.smsPerHour, {
        path: ['flowSmsPerHour'],
        message: "must be less than alarms.smsPerHour (the rest is kept for residents' alarms)",
      })
      .default({
        smsTo: [],
        smsWhenUplinkDownSec: 60,
        escalateAfterSec: 120,
        smsLanguage: DEFAULT_LANGUAGE,
        smsPerHour: 20,
        sirens: [],
        helpLed: HELP_LED_DEFAULTS,
      }),
    county: countySchema.optional(),
    nodeRed: nodeRedSchema
      .optional()
      .describe('Node-RED for technicians, in a child process (absent: off). Editor at http://<host>:<port>/'),
  })
  // Cross-field checks run even when other fields are wrong, so one pass shows every problem;
  // that is why they read the (possibly partly invalid) value defensively.
  .superRefine(
    (cfg, ctx) => {
      const ob = cfg.outbox as Partial<GatewayConfig['outbox']> | undefined;
      if (
        typeof ob?.criticalReserveBytes === 'number' &&
        typeof ob.maxBytes === 'number' &&
        ob.criticalReserveBytes >= ob.maxBytes
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['outbox', 'criticalReserveBytes'],
          message: `must be less than outbox.maxBytes (${ob.maxBytes})`,
        });
      }
      const mqtt = cfg.mqtt as Partial<GatewayConfig['mqtt']> | undefined;
      for (const section of ['reconnect', 'alarmRetry'] as const) {
        const range = mqtt?.[section];
        if (typeof range?.minMs === 'number' && typeof range.maxMs === 'number' && range.minMs > range.maxMs) {
          ctx.addIssue({
            code: 'custom',
            path: ['mqtt', section, 'minMs'],
            message: `must not exceed mqtt.${section}.maxMs`,
          });
        }
      }
      const busIds = (Array.isArray(cfg.buses) ? cfg.buses.map((b) => (b as { id?: unknown })?.id) : []).filter(
        (id): id is string => typeof id === 'string',
      );
      (Array.isArray(cfg.devices) ? cfg.devices : []).forEach((d: unknown, i) => {
        const bus = (d as { bus?: unknown } | null)?.bus;
        if (typeof bus === 'string' && !busIds.includes(bus)) {
          ctx.addIssue({
            code: 'custom',
            path: ['devices', i, 'bus'],
            message: `unknown bus "${bus}"${didYouMean(bus, busIds)} (declared: ${busIds.join(', ') || 'none'})`,
          });
        }
      });
      for (const p of eventIdProblems(cfg.devices)) ctx.addIssue({ code: 'custom', ...p });
      for (const p of ruleRefProblems(cfg.rules, cfg.devices)) ctx.addIssue({ code: 'custom', ...p });
      for (const p of snapshotCameraProblems(cfg.rules, cfg.devices)) ctx.addIssue({ code: 'custom', ...p });
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type MqttConfig = GatewayConfig['mqtt'];
export type WireConfig = MqttConfig['wire'];
export type OutboxConfig = GatewayConfig['outbox'];
export type NodeRedConfig = z.infer<typeof nodeRedSchema>;
