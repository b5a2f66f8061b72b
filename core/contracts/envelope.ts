/**
 * The event envelope: the one typed shape every reading, alert and health report takes
 * on its way from a driver to the county. Changing it is a versioned contract change.
 * The catalogue (events/catalogue.ts) builds on it; event.ts shows both to the rest.
 */
import { z } from 'zod';

export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export const prioritySchema = z.enum(PRIORITIES);
export type Priority = z.infer<typeof prioritySchema>;

/** Lower rank = more urgent; the outbox replays and sheds by rank. */
export const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };
export const priorityOfRank = (rank: number): Priority => PRIORITIES[rank]!;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const eventTypeSchema = z.string().regex(EVENT_TYPE, { error: 'must be dotted lower-case, e.g. door.opened' });
export const nameSchema = z
  .string()
  .regex(NAME, { error: 'must be 1-64 chars of letters, digits, _ . - (starting with a letter or digit)' });

export const eventSchema = z
  .strictObject({
    id: z
      .string()
      .regex(UUID_V7, { error: 'must be a UUIDv7' })
      .describe('Unique, time-ordered id; the county de-duplicates on it'),
    seq: z.int().min(1).describe('Per-gateway sequence, strictly increasing across restarts'),
    bootId: z.uuid().describe('Changes at every agent start'),
    gatewayId: nameSchema,
    deviceId: nameSchema,
    type: eventTypeSchema.describe('Dotted event type, e.g. door.opened, alarm.pressed'),
    priority: prioritySchema,
    ts: z.iso.datetime({ offset: true }).describe('Wall clock at capture (ISO 8601); trust it only when clockSynced'),
    monoMs: z.number().min(0).describe('Monotonic ms since agent boot at capture'),
    clockSynced: z.boolean().describe('False until the wall clock is known good (a Pi has no RTC)'),
    data: z.record(z.string(), z.unknown()),
    payloadInvalid: z
      .literal(true)
      .optional()
      .describe(
        "Only on an alarm-class event whose data does not match its type's schema: kept and sent all the same (an alarm is never dropped for its shape); any other such event is refused",
      ),
  })
  .describe('village-gateway event envelope v1');

export type GatewayEvent = z.infer<typeof eventSchema>;

/**
 * `data` is a JSON object (the same test z.record makes), checked without the copy z.record
 * would make: a record parse costs ~0.6 µs an event, more than the catalogue's payload check.
 */
const dataObject = z.custom<Record<string, unknown>>((v) => z.core.util.isPlainObject(v), {
  error: 'must be an object',
});

/**
 * The envelope part of what a producer supplies. The payload is checked against the event
 * catalogue (events/catalogue.ts) by the factory.
 */
export const eventInputSchema = z.strictObject({
  deviceId: nameSchema,
  type: eventTypeSchema,
  priority: prioritySchema,
  data: dataObject.optional(),
});
