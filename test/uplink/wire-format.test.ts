import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventSchema, PRIORITIES, type GatewayEvent } from '../../core/contracts/event.js';
import { compactBatch, expandCompactBatch } from '../../core/contracts/wire-format.js';
import {
  COMPRESSIONS,
  decodeBatchPayload,
  encodeBatchPayload,
  HEADER_BYTE,
} from '../../core/contracts/wire-payload.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { eventsOfJson, eventsOfMessage } from '../../scripts/county/decode-message.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

/** Decoded envelopes as the strings they serialise to, keyed by id: the batch groups events, so order differs. */
const byId = (events: GatewayEvent[]) => new Map(events.map((e) => [e.id, JSON.stringify(e)]));

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,10}$/);
const iso = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) })
  .map((ms) => new Date(ms).toISOString());
/** Random envelopes, including ones the compact rules cannot take (other gateways, offsets, odd ids and monoMs). */
const envelope: fc.Arbitrary<GatewayEvent> = fc.record({
  id: fc.oneof(
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: hex(20) }, // would read as an id tail: must travel whole
    {
      weight: 6,
      arbitrary: fc
        .tuple(hex(8), hex(4), hex(3), fc.constantFrom('8', '9', 'a', 'b'), hex(3), hex(12))
        .map(([a, b, c, v, d, e]) => `${a}-${b}-7${c}-${v}${d}-${e}`),
    },
  ),
  seq: fc.integer({ min: 1, max: 2 ** 40 }),
  // Mostly as the agent writes them; sometimes what no envelope schema allows (salvaged or old rows):
  // the codec must carry those exactly too, never make a batch the county cannot read.
  bootId: fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom('0190a1b2-0000-4000-8000-000000000001', '0190a1b2-0000-4000-8000-000000000002'),
    },
    { weight: 1, arbitrary: fc.string() },
  ),
  gatewayId: fc.constantFrom('gw-1', 'gw-1', 'gw-1', 'gw-2'),
  deviceId: fc.oneof(fc.constantFrom('dev-a', 'dev-b'), name),
  type: fc.constantFrom('sensor.telemetry', 'door.opened', 'test.reading'),
  priority: fc.oneof(fc.constantFrom(...PRIORITIES), fc.constantFrom('urgent')) as fc.Arbitrary<
    GatewayEvent['priority']
  >,
  ts: fc.oneof(iso, iso, iso, iso, fc.constant('2026-11-27T12:00:00+08:00'), fc.constant('2026-11-27T12:00:00Z')),
  monoMs: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 10 ** 9 }).map((us) => us / 1000) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 1e9, noNaN: true }) },
  ),
  clockSynced: fc.boolean(),
  data: fc.dictionary(fc.string(), fc.jsonValue()),
});
/** Mostly, as the agent makes them, an id whose 48-bit timestamp is the event's ts (not uuidv7(): its clock only goes forward). */
const envelopes = fc.array(fc.tuple(envelope, fc.boolean()), { minLength: 1, maxLength: 40 }).map((list) =>
  list.map(([e, own]) => {
    const ms = Date.parse(e.ts);
    if (!own || !Number.isSafeInteger(ms)) return e;
    const t = ms.toString(16).padStart(12, '0');
    return { ...e, id: `${t.slice(0, 8)}-${t.slice(8)}${e.id.slice(13)}` };
  }),
);

describe('compact batch (v2)', () => {
  it('gives back every random envelope exactly (deep-equal and byte for byte), through every compression', () => {
    const seen = { compacted: 0, raw: 0 };
    fc.assert(
      fc.property(envelopes, fc.constantFrom(...COMPRESSIONS), (evs, c) => {
        const bodies = evs.map((e) => JSON.stringify(e));
        const batch = compactBatch('gw-1', bodies);
        seen.raw += batch.raw?.length ?? 0;
        seen.compacted += evs.length - (batch.raw?.length ?? 0);
        const out = decodeBatchPayload(encodeBatchPayload('gw-1', bodies, c));
        expect(out).toHaveLength(evs.length);
        // Order differs (events are grouped): compare as sorted lists, byte for byte and deep.
        const got = out.map((e) => JSON.stringify(e)).sort();
        const want = [...bodies].sort();
        expect(got).toEqual(want);
        const byText = new Map(out.map((e) => [JSON.stringify(e), e]));
        for (const b of want) expect(byText.get(b)).toEqual(JSON.parse(b));
      }),
      { numRuns: 300 },
    );
    // Both paths were exercised: compacted events and ones carried whole.
    expect(seen.compacted).toBeGreaterThan(300);
    expect(seen.raw).toBeGreaterThan(300);
  });

  it("compacts the agent's own envelopes fully (no raw fallback) and reproduces their stored bodies", () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 27, 8, 0, 0), 12_345.678);
    const make = eventMaker(tempDir(), clock, 'gw-1');
    const bodies: string[] = [];
    for (let i = 0; i < 200; i++) {
      // As the system clock: wall ms, monoMs with three decimals.
      clock.wall += 3000 + (i % 7);
      clock.mono = Math.round(clock.mono * 1000 + 2_999_999 + i * 17) / 1000;
      bodies.push(JSON.stringify(make(PRIORITIES[i % 4]!, i % 13)));
    }
    const batch = compactBatch('gw-1', bodies);
    expect(batch.raw).toBeUndefined();
    expect(batch.groups).toHaveLength(4); // one device and type, four priorities
    // The id's timestamp is the event's ts: only its 20 hex digits after it travel.
    expect(batch.groups[0]!.events[1]![3]).toMatch(/^[0-9a-f]{20}$/);
    const out = byId(expandCompactBatch(JSON.parse(JSON.stringify(batch))));
    expect(out).toEqual(new Map(bodies.map((b) => [(JSON.parse(b) as GatewayEvent).id, b])));
    for (const b of bodies) expect(eventSchema.safeParse(JSON.parse(b)).success).toBe(true);
  });

  it('carries whole what it cannot compact, and says so in raw', () => {
    const make = eventMaker(tempDir(), new FakeClock(), 'gw-other');
    const foreign = JSON.stringify(make('normal'));
    const batch = compactBatch('gw-1', [foreign]);
    expect(batch.groups).toEqual([]);
    expect(batch.raw).toEqual([JSON.parse(foreign)]);
  });

  it('keeps a __proto__ key in data as data', () => {
    const make = eventMaker(tempDir(), new FakeClock(), 'gw-1');
    const e = make('normal');
    const body = JSON.stringify(e).replace('"data":{', '"data":{"__proto__":{"x":1},');
    const out = decodeBatchPayload(encodeBatchPayload('gw-1', [body], 'deflate'));
    expect(JSON.stringify(out[0])).toBe(body);
    expect(Object.getPrototypeOf(out[0]!.data)).toBe(Object.prototype);
  });

  it('the county tools read all three forms: an envelope, a v1 batch, a v2 batch', () => {
    const make = eventMaker(tempDir(), new FakeClock(), 'gw-1');
    const [a, b] = [make('high'), make('normal')];
    expect(eventsOfMessage('events', Buffer.from(JSON.stringify(a)))).toEqual([a]);
    const v1 = { v: 1, gatewayId: 'gw-1', events: [a, b] };
    expect(eventsOfMessage('events', Buffer.from(JSON.stringify(v1)))).toEqual([a, b]);
    const payload = encodeBatchPayload(
      'gw-1',
      [a, b].map((e) => JSON.stringify(e)),
      'brotli',
    );
    expect(payload[0]).toBe(HEADER_BYTE.brotli);
    expect(eventsOfMessage('batch', payload)).toEqual([a, b]);
    expect(eventsOfJson(compactBatch('gw-1', [JSON.stringify(b)]))).toEqual([b]);
  });
});

describe('decoding what is not a good batch', () => {
  const make = () => eventMaker(tempDir(), new FakeClock(), 'gw-1');
  const good = () => {
    const m = make();
    return encodeBatchPayload(
      'gw-1',
      Array.from({ length: 50 }, () => JSON.stringify(m('normal', 40))),
      'deflate',
    );
  };
  const refusal = (payload: Buffer, limits?: { maxMessageBytes?: number; maxJsonBytes?: number }) => {
    try {
      decodeBatchPayload(payload, limits);
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('BATCH_UNREADABLE');
      return (err as Error).message;
    }
    throw new Error('decoded a payload it should have refused');
  };

  it('names an unknown header byte, an empty payload, truncation and corruption', () => {
    const p = good();
    expect(refusal(Buffer.from([0x7b, 0x7d]))).toMatch(/unknown header byte 0x7b/);
    expect(refusal(Buffer.alloc(0))).toMatch(/empty payload/);
    expect(refusal(p.subarray(0, p.length >> 1))).toMatch(/deflate payload does not decompress/);
    const flipped = Buffer.from(p);
    for (let i = 5; i < flipped.length; i += 7) flipped[i] = flipped[i]! ^ 0xff;
    expect(refusal(flipped)).toMatch(/does not decompress|not UTF-8 JSON|not a v2 compact batch|not a valid envelope/);
    expect(refusal(Buffer.concat([Buffer.from([0]), Buffer.from('{"v":2,"gatewayId":"gw","groups":[{}]}')]))).toMatch(
      /not a v2 compact batch: groups\.0/,
    );
  });

  it('stops a zip bomb while inflating: 64 MiB of zeros in ~64 KiB is refused, not expanded', () => {
    const bomb = Buffer.concat([Buffer.from([HEADER_BYTE.deflate]), deflateRawSync(Buffer.alloc(64 * 1024 ** 2))]);
    expect(bomb.length).toBeLessThan(128 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    expect(refusal(bomb)).toMatch(/does not decompress: .*(larger|too large|maxOutputLength|Cannot create a Buffer)/i);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(40 * 1024 ** 2);
    expect(refusal(good(), { maxJsonBytes: 1000 })).toMatch(/does not decompress/);
    expect(refusal(good(), { maxMessageBytes: 100 })).toMatch(/over 100/);
  });

  it('refuses out-of-range numbers instead of crashing on them', () => {
    const batch = {
      v: 2,
      gatewayId: 'gw',
      groups: [
        {
          bootId: '0190a1b2-0000-4000-8000-000000000001',
          deviceId: 'd',
          type: 'a.b',
          priority: 'low',
          clockSynced: true,
          events: [[1, 9e15, 0, `7abc8abc${'a'.repeat(12)}`, {}]],
        },
      ],
    };
    expect(refusal(Buffer.concat([Buffer.from([0]), Buffer.from(JSON.stringify(batch))]))).toMatch(
      /ts .* is not a date|2\^48/,
    );
    batch.groups[0]!.events[0]![1] = Date.UTC(2026, 0, 1);
    // On purpose: a number where the event's id (a string) belongs, which the decoder must refuse.
    batch.groups[0]!.events[0]![3] = 42 as unknown as string;
    expect(refusal(Buffer.concat([Buffer.from([0]), Buffer.from(JSON.stringify(batch))]))).toMatch(
      /not a v2 compact batch: groups\.0\.events\.0\.3/,
    );
  });
});
