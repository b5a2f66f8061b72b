/**
 * Local alert rules, in the gateway config. The condition part (`when.data`) is a MongoDB
 * style query evaluated by sift (synchronous, small); the temporal parts (windows, counts,
 * durations, absence, correlation, cooldown) are ours, on the monotonic clock.
 */
import { z } from 'zod';
import { eventTypeSchema, nameSchema } from '../../core/contracts/event.js';
import { intIn, phoneNumberSchema } from './fields.js';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Operators a config may use in data queries: no $where/$function (they run code). */
const FORBIDDEN = /^\$(where|function|accumulator|expr)$/;
const dataQuery = z.record(z.string(), z.unknown()).superRefine((q, ctx) => {
  const walk = (v: unknown, path: (string | number)[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (FORBIDDEN.test(k))
          ctx.addIssue({ code: 'custom', path: [...path, k], message: `${k} is not allowed (it would run code)` });
        walk(x, [...path, k]);
      }
    }
  };
  walk(q, []);
});

export const matchSchema = z.strictObject({
  type: z
    .union([eventTypeSchema, z.array(eventTypeSchema).min(1)])
    .optional()
    .describe('Event type(s)'),
  devices: z.array(nameSchema).min(1).optional().describe('Event device ids'),
  tags: z.array(z.string()).min(1).optional().describe('Tags of the configured device the event came from'),
  data: dataQuery.optional().describe('A query on the event data, e.g. { tempC: { $gt: 40 } }'),
});
export type Match = z.infer<typeof matchSchema>;

const triggerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('each') }).describe('Every matching event'),
  z.strictObject({
    kind: z.literal('count'),
    atLeast: intIn(2, 1000),
    withinSec: intIn(1, 86400),
    perDevice: z.boolean().default(true),
  }),
  z.strictObject({
    kind: z.literal('duration'),
    until: matchSchema.describe('The event that ends the condition (e.g. door.closed of the same device)'),
    forSec: intIn(1, 7 * 86400),
  }),
  z.strictObject({
    kind: z.literal('absence'),
    silentForSec: intIn(1, 30 * 86400).describe('No matching event from a device for this long'),
  }),
  z.strictObject({
    kind: z.literal('correlation'),
    first: matchSchema,
    withinSec: intIn(1, 86400).describe('`when` within this long after `first`'),
  }),
]);

const actionSchema = z.discriminatedUnion('do', [
  z.strictObject({
    do: z.literal('output'),
    device: nameSchema,
    output: z.string().min(1),
    action: z.enum(['on', 'off', 'pulse']),
    durationMs: intIn(1, 3_600_000).optional(),
  }),
  z.strictObject({
    do: z.literal('sms'),
    to: z.array(phoneNumberSchema).min(1).optional().describe('Default: alarms.smsTo'),
    text: z.string().min(1).max(700),
  }),
  z.strictObject({
    do: z.literal('alert'),
    priority: z.enum(['critical', 'high']).default('critical'),
    message: z.string().min(1).max(500),
  }),
  z
    .strictObject({
      do: z.literal('snapshot'),
      camera: nameSchema.describe('The camera device (driver: camera) whose picture is taken'),
      channel: intIn(1, 256).default(1),
    })
    .describe(
      "A picture from the camera now, stored and reported as camera.picture; the rule's other actions never wait for it",
    ),
]);

export const ruleSchema = z
  .strictObject({
    id: nameSchema.refine((id) => id !== 'flow' && id !== 'press', {
      message:
        "'flow' and 'press' are taken: the rule ids of alerts raised by Node-RED flows (they spend the flows' SMS budget) and of a press no rule raised an alert for",
    }),
    description: z.string().optional(),
    when: matchSchema,
    trigger: triggerSchema.default({ kind: 'each' }),
    window: z
      .strictObject({
        from: z.string().regex(HHMM, { error: 'must be HH:MM' }),
        to: z.string().regex(HHMM, { error: 'must be HH:MM' }),
        whenClockUnsynced: z
          .enum(['fire', 'skip'])
          .default('fire')
          .describe('A Pi without a synced clock does not know the hour: fire (safe) or skip'),
      })
      .optional()
      .describe('Time of day (gateway.timezone) when the rule applies; from > to spans midnight'),
    cooldownSec: intIn(0, 86400).default(30).describe('After firing, the rule stays quiet this long (per device)'),
    sms: z
      .enum(['fallback', 'always', 'never'])
      .default('fallback')
      .describe(
        "An alert's SMS: fallback = when the broker has not acknowledged a critical alert within mqtt.alarmRetry.ackTimeoutMs, the uplink is down (alarms.smsWhenUplinkDownSec) or nobody acknowledged it in time; always; never",
      ),
    actions: z.array(actionSchema).min(1),
  })
  .superRefine((r, ctx) => {
    if (r.trigger.kind === 'absence' && !r.when.devices && !r.when.tags) {
      ctx.addIssue({
        code: 'custom',
        path: ['when'],
        message: 'an absence rule needs when.devices or when.tags (whose silence to watch)',
      });
    }
    r.actions.forEach((a, i) => {
      if (a.do === 'output' && a.action === 'pulse' && a.durationMs === undefined)
        ctx.addIssue({ code: 'custom', path: ['actions', i, 'durationMs'], message: 'required for a pulse' });
    });
  });

export type Rule = z.infer<typeof ruleSchema>;
export type RuleAction = Rule['actions'][number];
