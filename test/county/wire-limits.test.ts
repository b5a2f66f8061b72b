/**
 * The county decoders' limits (core/contracts/wire-limits.ts) on every path: JSON events, v1
 * batches, compact batches, file lines; nesting counted before parsing, strings not miscounted;
 * and the log budget the county tools print unreadable messages within.
 */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan, WIRE_LIMITS } from '../../core/contracts/wire-limits.js';
import { encodeBatchPayload } from '../../core/contracts/wire-payload.js';
import { eventsOfJson, eventsOfMessage } from '../../scripts/county/decode-message.js';
import { LogBudget, printable } from '../../scripts/county/unreadable-log.js';

const envelope = (data: unknown) =>
  `{"id":"x","seq":1,"gatewayId":"g","bootId":"b","deviceId":"d","type":"t","priority":"low","ts":"2026-12-05T08:00:00.000Z","data":${JSON.stringify(data)}}`;
/** data nested so that the whole envelope is `depth` levels deep. */
const deepData = (depth: number) => JSON.parse('['.repeat(depth - 1) + ']'.repeat(depth - 1)) as unknown;
const compact = (data: string) =>
  `{"v":2,"gatewayId":"g","groups":[{"bootId":"b","deviceId":"d","type":"t","priority":"low","clockSynced":true,"events":[[1,0,0,"x",${data}]]}]}`;

describe('county decoding limits', () => {
  it('a JSON envelope up to the depth limit is read; one level more is refused before parsing', () => {
    const max = WIRE_LIMITS.maxDepth;
    expect(eventsOfMessage('events', Buffer.from(envelope(deepData(max))))).toHaveLength(1);
    expect(() => eventsOfMessage('events', Buffer.from(envelope(deepData(max + 1))))).toThrow(
      `JSON nests deeper than ${max} levels`,
    );
  });

  it('brackets and escaped quotes inside strings are not nesting', () => {
    const tricky = { s: '[[[[{{{{"\\"]]]', t: '\\', u: '"[' };
    const text = Buffer.from(JSON.stringify({ a: [tricky, [tricky]] }));
    // {a: [tricky, [tricky]]}: the object, a's array, the inner array, tricky in it.
    expect(nestsDeeperThan(text, 4)).toBe(false);
    expect(nestsDeeperThan(text, 3)).toBe(true);
    expect(nestsDeeperThan(Buffer.from(JSON.stringify('['.repeat(1000))), 0)).toBe(false);
  });

  it('a compact batch nesting 200,000 arrays in its data is refused, on the batch topic and as a file line', () => {
    const deep = compact(`{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const payload = Buffer.concat([Buffer.from([1]), deflateRawSync(Buffer.from(deep), { level: 9 })]);
    expect(payload.length).toBeLessThan(1024);
    expect(() => eventsOfMessage('batch', payload)).toThrow(/nests deeper than 64 levels/);
    expect(() => eventsOfMessage('events', Buffer.from(deep))).toThrow(/nests deeper than 64 levels/);
  });

  it('a message over the size limit is refused on /events, whatever it holds', () => {
    const pad = Buffer.from(envelope({ pad: 'x'.repeat(WIRE_LIMITS.maxMessageBytes) }));
    expect(() => eventsOfMessage('events', pad)).toThrow(/JSON of \d+ bytes is over 1048576/);
    expect(() => eventsOfMessage('events', pad, { maxMessageBytes: 2 * 1024 ** 2 })).not.toThrow();
  });

  it('more events than allowed: refused for v1 and v2 JSON, as for compressed batches', () => {
    // Tiny events, so that the count and not the size is what refuses it.
    const many = { v: 1, gatewayId: 'g', events: Array.from({ length: WIRE_LIMITS.maxEvents + 1 }, () => ({})) };
    expect(() => eventsOfMessage('events', Buffer.from(JSON.stringify(many)))).toThrow(
      '10001 events in one message is over 10000',
    );
    const v2 = JSON.parse(compact('{}')) as { groups: { events: unknown[] }[] };
    v2.groups[0]!.events = Array.from({ length: WIRE_LIMITS.maxEvents + 1 }, () => [1, 0, 0, 'x', {}]);
    expect(() => eventsOfJson(v2)).toThrow('10001 events in one message is over 10000');
    const ok = encodeBatchPayload('g', [envelope({})], 'none');
    expect(eventsOfMessage('batch', ok)).toHaveLength(1);
  });

  it('garbage: not UTF-8, not JSON, each a clear reason', () => {
    expect(() => eventsOfMessage('events', Buffer.from([0xff, 0xfe, 0x7b]))).toThrow(/not UTF-8/);
    expect(() => eventsOfMessage('events', Buffer.from('{"id":'))).toThrow(/not JSON/);
  });
});

describe('the log of unreadable messages', () => {
  it('shows at most 10 lines every 10 s, then says how many it held back', () => {
    let t = 0;
    const out: string[] = [];
    const log = new LogBudget((l) => out.push(l), { now: () => t });
    for (let i = 0; i < 25; i++) log.line(`bad ${i}`);
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => `bad ${i}`));
    t = 10_000;
    log.line('bad 25');
    expect(out.slice(10)).toEqual(['(15 more like it not shown: at most 10 every 10 s)', 'bad 25']);
    log.flush();
    expect(out).toHaveLength(12);
  });

  it('escapes control characters and cuts long text', () => {
    expect(printable('village/\x1b[2J/events\n')).toBe('village/\\u001b[2J/events\\u000a');
    expect(printable('x'.repeat(500))).toHaveLength(203);
  });
});
