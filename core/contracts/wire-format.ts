/**
 * The compact batch (v2): many event envelopes in one JSON document, with what they share
 * said once. Part of the MQTT contract (docs/county.md, "MQTT contract"): the county decodes it with
 * `expandCompactBatch`, and every envelope comes back exactly as the gateway stored it.
 *
 *   {"v":2,"gatewayId":"gw","groups":[{"bootId","deviceId","type","priority","clockSynced",
 *     "events":[[seq, ts, monoUs, id, data], ...]}], "raw":[envelope, ...]?}
 *
 * - gatewayId is said once per batch; bootId, deviceId, type, priority and clockSynced once
 *   per group (events sharing all five, in the order they were sent).
 * - seq, ts (epoch ms) and monoUs (monoMs in integer microseconds: the agent's clock has
 *   three decimals) are absolute in a group's first event and deltas from the previous event
 *   of the same group after that: village readings a minute apart become small numbers.
 * - id: a UUIDv7 starts with its 48-bit ms timestamp, which for the agent's ids is the event's
 *   own ts; when it is, only the 20 hex digits after it are sent. Otherwise the whole id (36
 *   characters). The county de-duplicates on the id, so it always comes back whole.
 * - An envelope that these rules cannot reproduce byte for byte (another gateway id, a ts
 *   that is not `toISOString()` form, a monoMs with more than three decimals, keys in another
 *   order) travels whole in `raw`. The encoder checks every event it compacts by expanding it
 *   again, so decoding is exact by construction, not by hope.
 */
import { z } from 'zod';
import { GatewayError } from '../kernel/errors.js';
import { eventSchema, nameSchema, type GatewayEvent } from './event.js';

export const COMPACT_BATCH_VERSION = 2;

/** `[seq, ts, monoUs, id, data]`; the first three absolute in a group's first event, deltas after. */
export type CompactEvent = [number, number, number, string, Record<string, unknown>];

export interface CompactGroup {
  bootId: string;
  deviceId: string;
  type: string;
  priority: string;
  clockSynced: boolean;
  events: CompactEvent[];
}

export interface CompactBatch {
  v: 2;
  gatewayId: string;
  groups: CompactGroup[];
  raw?: GatewayEvent[];
}

const int = z.int().describe('An integer (a delta may be negative)');

/**
 * What the decoder checks before it expands: the shape, so that it can neither crash nor
 * misread. It does not judge the envelopes (the JSON forms never did either): whatever the
 * gateway stored comes out exactly, and the county validates envelopes as it always has.
 */
export const compactBatchSchema = z
  .strictObject({
    v: z.literal(COMPACT_BATCH_VERSION),
    gatewayId: z.string(),
    groups: z.array(
      z.strictObject({
        bootId: z.string(),
        deviceId: z.string(),
        type: z.string(),
        priority: z.string(),
        clockSynced: z.boolean(),
        events: z
          .array(
            z.tuple([
              int.describe('seq: absolute in the first event of the group, then the delta from the previous one'),
              int.describe('ts as epoch ms: absolute first, then a delta'),
              int.describe('monoMs x 1000 (integer microseconds): absolute first, then a delta'),
              z
                .string()
                .describe(
                  "The UUIDv7 after its 48-bit timestamp (20 hex digits; the timestamp is the event's ts), or the whole id",
                ),
              z.record(z.string(), z.unknown()).describe('data, as the envelope has it'),
            ]),
          )
          .min(1),
      }),
    ),
    raw: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe('Envelopes carried whole (config/schemas/event.schema.json)'),
  })
  .describe('village-gateway compact event batch v2 (topic <prefix>/events/batch, after the header byte)');

export const jsonBatchSchema = z
  .strictObject({ v: z.literal(1), gatewayId: nameSchema, events: z.array(eventSchema).min(1) })
  .describe('village-gateway JSON event batch v1 (topic <prefix>/events)');

const ID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-(7[0-9a-f]{3})-([89ab][0-9a-f]{3})-([0-9a-f]{12})$/;
const MAX_TS = 2 ** 48 - 1;
/** The largest time a JavaScript Date holds (ECMA-262 TimeClip). */
const MAX_DATE_MS = 8.64e15;

/** The id as sent: its tail when its timestamp is tsMs, else whole. */
function packId(id: string, tsMs: number): string {
  const m = ID_V7.exec(id);
  if (!m) return id;
  return parseInt(m[1]! + m[2]!, 16) === tsMs ? m[3]! + m[4]! + m[5]! : id;
}

const TAIL = /^[0-9a-f]{20}$/;

function unpackId(sent: string, tsMs: number): string {
  if (!TAIL.test(sent)) return sent;
  if (!Number.isSafeInteger(tsMs) || tsMs < 0 || tsMs > MAX_TS)
    throw new GatewayError('BATCH_UNREADABLE', `an id tail needs a ts in 0..2^48 ms (got ${tsMs})`);
  const t = tsMs.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8)}-${sent.slice(0, 4)}-${sent.slice(4, 8)}-${sent.slice(8)}`;
}

/** One envelope, in the key order the agent's event factory writes. */
function envelope(
  gatewayId: string,
  g: CompactGroup,
  seq: number,
  tsMs: number,
  monoUs: number,
  id: string,
  data: Record<string, unknown>,
): GatewayEvent {
  return {
    id: unpackId(id, tsMs),
    seq,
    bootId: g.bootId,
    gatewayId,
    deviceId: g.deviceId,
    type: g.type,
    priority: g.priority as GatewayEvent['priority'], // as stored: the county judges envelopes, not the codec
    ts: new Date(tsMs).toISOString(),
    monoMs: monoUs / 1000,
    clockSynced: g.clockSynced,
    data,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface GroupState {
  group: CompactGroup;
  seq: number;
  ts: number;
  mono: number;
}

/**
 * Builds the compact batch of stored envelope bodies (the outbox's JSON strings). Pure; about
 * 3 µs an event (parse, and the check that each compacted event expands to its body again).
 */
export function compactBatch(gatewayId: string, bodies: readonly string[]): CompactBatch {
  const groups = new Map<string, GroupState>();
  const raw: GatewayEvent[] = [];
  for (const body of bodies) {
    const e = JSON.parse(body) as GatewayEvent;
    if (!isObject(e))
      throw new GatewayError('EVENT_INVALID', `a stored body is not a JSON object: ${body.slice(0, 40)}`);
    const tsMs = Date.parse(e.ts);
    const monoUs = Math.round(e.monoMs * 1000);
    const key = `${e.bootId}\n${e.deviceId}\n${e.type}\n${e.priority}\n${e.clockSynced}`;
    let st = groups.get(key);
    const fresh = !st;
    st ??= {
      group: {
        bootId: e.bootId,
        deviceId: e.deviceId,
        type: e.type,
        priority: e.priority,
        clockSynced: e.clockSynced,
        events: [],
      },
      seq: 0,
      ts: 0,
      mono: 0,
    };
    const id = typeof e.id === 'string' ? packId(e.id, tsMs) : '';
    // Only what the decoder's schema accepts goes into a group; the rest travels whole.
    const ok =
      e.gatewayId === gatewayId &&
      typeof e.id === 'string' &&
      !(TAIL.test(e.id) && id === e.id) && // a 20-hex id of its own would read as a tail
      Number.isSafeInteger(e.seq) &&
      [e.bootId, e.deviceId, e.type, e.priority].every((f) => typeof f === 'string') &&
      typeof e.clockSynced === 'boolean' &&
      isObject(e.data) &&
      Number.isSafeInteger(tsMs) &&
      Number.isSafeInteger(monoUs) &&
      JSON.stringify(envelope(gatewayId, st.group, e.seq, tsMs, monoUs, id, e.data)) === body;
    if (!ok) {
      raw.push(e);
      continue;
    }
    if (fresh) groups.set(key, st);
    st.group.events.push([e.seq - st.seq, tsMs - st.ts, monoUs - st.mono, id, e.data]);
    st.seq = e.seq;
    st.ts = tsMs;
    st.mono = monoUs;
  }
  return {
    v: COMPACT_BATCH_VERSION,
    gatewayId,
    groups: [...groups.values()].map((s) => s.group),
    ...(raw.length > 0 ? { raw } : {}),
  };
}

/**
 * The envelopes of a compact batch (already parsed JSON), checked against its schema first:
 * anything else is a BATCH_UNREADABLE error naming the first problem, never a crash.
 */
export function expandCompactBatch(value: unknown): GatewayEvent[] {
  const parsed = compactBatchSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new GatewayError(
      'BATCH_UNREADABLE',
      `not a v2 compact batch: ${first.path.join('.') || '(root)'}: ${first.message}`,
    );
  }
  // The input itself, not zod's copy: a copy made by assignment would turn a `__proto__` key in
  // data into a prototype, and data must come back exactly as the gateway stored it.
  const batch = value as CompactBatch;
  const out: GatewayEvent[] = [];
  for (const g of batch.groups) {
    let seq = 0;
    let ts = 0;
    let mono = 0;
    for (const [dSeq, dTs, dMono, id, data] of g.events) {
      seq += dSeq;
      ts += dTs;
      mono += dMono;
      if (!(Math.abs(ts) <= MAX_DATE_MS))
        throw new GatewayError('BATCH_UNREADABLE', `event ${out.length + 1}: ts ${ts} is not a date`);
      if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(mono))
        throw new GatewayError(
          'BATCH_UNREADABLE',
          `event ${out.length + 1}: seq or monoUs past 2^53 (deltas that overflow)`,
        );
      out.push(envelope(batch.gatewayId, g, seq, ts, mono, id, data));
    }
  }
  return out.concat((batch.raw ?? []) as GatewayEvent[]);
}
