/** The delivery checker on hand-made event streams: what must pass, and what must fail. */
import { describe, expect, it } from 'vitest';
import { DeliveryChecker, MAX_MISSING_LISTED, type CheckedEvent } from '../../scripts/county/delivery-checker.js';

const BOOT_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const BOOT_B = 'bbbbbbbb-0000-4000-8000-000000000002';

/** An event as a gateway would publish it (ids need only be unique here). */
function ev(
  seq: number,
  o: { boot?: string; gw?: string; type?: string; priority?: string; data?: Record<string, unknown> } = {},
): CheckedEvent {
  const boot = o.boot ?? BOOT_A;
  const gw = o.gw ?? 'gw-1';
  return {
    id: `${gw}-${boot.slice(0, 4)}-${seq}`,
    seq,
    bootId: boot,
    gatewayId: gw,
    deviceId: 'dev',
    type: o.type ?? 'sensor.telemetry',
    priority: o.priority ?? 'normal',
    ts: '2026-11-27T12:00:00.000Z',
    data: o.data ?? { seq },
  };
}
const started = (
  seq: number,
  o: { boot?: string; gw?: string; firstSeq?: number; shed?: Record<string, number> } = {},
) =>
  ev(seq, {
    ...o,
    type: 'gateway.started',
    priority: 'high',
    data: { firstSeq: o.firstSeq ?? seq, shed: o.shed ?? { critical: 0, high: 0, normal: 0, low: 0 } },
  });
const shedReport = (seq: number, totals: Record<string, number>, o: { boot?: string; gw?: string } = {}) =>
  ev(seq, { ...o, type: 'gateway.events_shed', priority: 'high', data: { counts: {}, totals } });

/** A boot of `n` events from `first`: gateway.started, then telemetry. */
function boot(first: number, n: number, o: { boot?: string; gw?: string } = {}): CheckedEvent[] {
  return [started(first, o), ...Array.from({ length: n - 1 }, (_, i) => ev(first + 1 + i, o))];
}

function check(events: unknown[], committed: CheckedEvent[] = [], opts = {}) {
  const c = new DeliveryChecker(opts);
  for (const e of events) c.receive(e);
  for (const e of committed) c.committed(e.id, e.seq, { gatewayId: e.gatewayId, priority: e.priority! });
  return c.verdict();
}

describe('delivery checker: streams that pass', () => {
  it('one boot, arriving in priority order rather than seq order, with identical duplicates', () => {
    const events = boot(1, 10);
    const reordered = [events[7]!, ...events.slice(0, 7), ...events.slice(8)];
    // The same event re-sent after a reconnect, serialized with its keys in another order.
    const resent = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(events[3]!).reverse()))) as unknown;
    const v = check([...reordered, resent, events[9]], events);
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({
      ok: true,
      distinct: 10,
      duplicates: 2,
      malformed: 0,
      committed: 10,
      undelivered: [],
      lost: { 'gw-1': 0 },
    });
    expect(v.boots).toEqual([
      {
        gatewayId: 'gw-1',
        bootId: BOOT_A,
        firstSeq: 1,
        anchored: true,
        lastSeq: 10,
        received: 10,
        missingCount: 0,
        missing: [],
      },
    ]);
  });

  it('two boots, interleaved: each judged from its own first seq; the skipped block between them is no gap', () => {
    const a = boot(1, 5);
    const b = boot(10_001, 4, { boot: BOOT_B }); // a crash skipped the rest of the reserved block
    const v = check([a[0], b[0], a[1], b[1], a[2], a[3], b[2], b[3], a[4]], [...a, ...b]);
    expect(v.problems).toEqual([]);
    expect(v.boots.map((x) => [x.firstSeq, x.lastSeq, x.missing.length])).toEqual([
      [1, 5, 0],
      [10_001, 10_004, 0],
    ]);
  });

  it('a boot that begins with gateway.storage_recovered: gateway.started announces the earlier first seq', () => {
    const recovered = ev(1, { type: 'gateway.storage_recovered', priority: 'critical' });
    const v = check([recovered, started(2, { firstSeq: 1 }), ev(3)]);
    expect(v.problems).toEqual([]);
    expect(v.boots[0]).toMatchObject({ firstSeq: 1, lastSeq: 3, missing: [] });
  });

  it('a gap shedding accounts for (gateway.events_shed totals), and committed events that were shed', () => {
    const events = boot(1, 10);
    const shed = [events[2]!, events[3]!, events[4]!]; // the oldest low-priority events, displaced
    for (const e of shed) e.priority = 'low';
    const arrived = events.filter((e) => !shed.includes(e));
    const v = check([...arrived, shedReport(11, { critical: 0, high: 0, normal: 0, low: 3 })], events);
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ ok: true, shed: { 'gw-1': 3 }, lost: { 'gw-1': 3 } });
    expect(v.boots[0]!.missing).toEqual([3, 4, 5]);
    expect(v.undelivered).toHaveLength(3); // reported, but accounted for
  });

  it("shed totals are cumulative across boots: a later gateway.started reports the earlier boot's shedding", () => {
    const a = boot(1, 6).filter((e) => e.seq !== 4);
    const b = [started(10_001, { boot: BOOT_B, shed: { critical: 0, high: 0, normal: 1, low: 0 } })];
    expect(check([...a, ...b]).problems).toEqual([]);
  });

  it('joined late: a boot whose gateway.started it never saw is judged from the lowest seq received', () => {
    const events = boot(1, 10).slice(4);
    const v = check(events, [], { joinedLate: true });
    expect(v.problems).toEqual([]);
    expect(v.boots[0]).toMatchObject({ firstSeq: 5, anchored: false, lastSeq: 10 });
  });

  it("a committed id from a CLI's stored lines (no gateway, no priority) belongs to the only gateway seen", () => {
    const events = boot(1, 3);
    const c = new DeliveryChecker();
    for (const e of events) c.receive(e);
    for (const e of events) c.committed(e.id, e.seq);
    expect(c.verdict().problems).toEqual([]);
  });
});

describe('delivery checker: streams that fail', () => {
  it('a gap nothing accounts for', () => {
    const v = check(boot(1, 8).filter((e) => e.seq !== 3 && e.seq !== 6));
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(['gw-1: 2 events lost, only 0 accounted for by shedding (boot aaaaaaaa missing 3, 6)']);
    expect(v.boots[0]!.missing).toEqual([3, 6]);
  });

  it('a gap larger than the shedding reported', () => {
    const events = boot(1, 10).filter((e) => ![3, 4, 5].includes(e.seq));
    const v = check([...events, shedReport(11, { low: 2 })]);
    expect(v.problems).toEqual([
      'gw-1: 3 events lost, only 2 accounted for by shedding (boot aaaaaaaa missing 3, 4, 5)',
    ]);
  });

  it("another gateway's shedding does not cover this one's gap", () => {
    const v = check([
      ...boot(1, 4).filter((e) => e.seq !== 2),
      ...boot(1, 3, { gw: 'gw-2', boot: BOOT_B }),
      shedReport(4, { low: 5 }, { gw: 'gw-2', boot: BOOT_B }),
    ]);
    expect(v.problems).toEqual(['gw-1: 1 events lost, only 0 accounted for by shedding (boot aaaaaaaa missing 2)']);
  });

  it('a committed event that never arrived, at the tail where no gap shows', () => {
    const events = boot(1, 5);
    const v = check(events.slice(0, 4), events);
    expect(v.boots[0]!.missing).toEqual([]);
    expect(v.undelivered).toEqual([events[4]!.id]);
    expect(v.problems).toEqual([
      'gw-1: 1 events lost, only 0 accounted for by shedding (1 normal lost, 0 normal shed)',
      `1 committed events never arrived: ${events[4]!.id} (seq 5, normal)`,
    ]);
  });

  it('a lost critical event, even while shedding of other priorities covers the count', () => {
    const events = boot(1, 6);
    events[2]!.priority = 'critical';
    events[2]!.type = 'alarm.pressed';
    const v = check(
      [...events.filter((e) => e.seq !== 3), shedReport(7, { critical: 0, high: 0, normal: 0, low: 4 })],
      events,
    );
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toBe(
      'gw-1: 1 events lost, only 4 accounted for by shedding (1 critical lost, 0 critical shed; boot aaaaaaaa missing 3)',
    );
    expect(v.problems[1]).toMatch(/^1 committed events never arrived: .* \(seq 3, critical\)$/);
  });

  it('a duplicate that differs from the first copy', () => {
    const events = boot(1, 3);
    const changed = { ...events[1]!, data: { seq: 99 } };
    const v = check([...events, changed]);
    expect(v.problems).toEqual([`id ${events[1]!.id} arrived twice with different contents`]);
    expect(v.duplicates).toBe(1);
  });

  it('one seq carried by two ids', () => {
    const v = check([...boot(1, 3), { ...ev(2), id: 'another-id' }]);
    expect(v.problems).toEqual([`seq 2 of boot ${BOOT_A} carried by two different ids`]);
  });

  it('a boot without gateway.started (its beginning, and anything lost there, is unknown)', () => {
    const v = check(boot(1, 6).slice(1));
    expect(v.problems).toEqual([
      `boot ${BOOT_A} of gw-1: its gateway.started never arrived, so where it begins is unknown (judged from seq 2)`,
    ]);
    expect(v.boots[0]!.anchored).toBe(false);
  });

  it('a gateway.started without firstSeq, or a boot started twice', () => {
    const bad = { ...started(1), data: { shed: {} } };
    expect(check([bad, ev(2)]).problems).toContain(`gateway.started ${bad.id} of boot ${BOOT_A} has no data.firstSeq`);
    const twice = { ...started(3, { firstSeq: 1 }), id: 'second-start' };
    expect(check([...boot(1, 2), twice]).problems).toEqual([`boot ${BOOT_A} of gw-1 started twice`]);
  });

  it('a seq below the announced first seq', () => {
    const v = check([started(5, { firstSeq: 5 }), ev(6), ev(3)]);
    expect(v.problems).toEqual([`boot ${BOOT_A} of gw-1: seq 3 is below its announced first seq 5`]);
  });

  it('two boots whose seqs overlap (seq went back across a restart)', () => {
    const v = check([...boot(1, 5), ...boot(4, 3, { boot: BOOT_B })]);
    expect(v.problems).toEqual([
      'gw-1: boots aaaaaaaa (seq 1..5) and bbbbbbbb (seq 4..6) overlap: seq went back across a restart',
    ]);
  });

  it('a stray huge seq: judged at once, the gap counted, its list kept short', () => {
    const started = Date.now();
    const v = check([...boot(1, 3), ev(Number.MAX_SAFE_INTEGER)]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(v.boots[0]).toMatchObject({ lastSeq: Number.MAX_SAFE_INTEGER, missingCount: Number.MAX_SAFE_INTEGER - 4 });
    expect(v.boots[0]!.missing).toHaveLength(MAX_MISSING_LISTED);
    expect(v.problems[0]).toMatch(
      /^gw-1: 9007199254740987 events lost, only 0 accounted for by shedding \(boot aaaaaaaa missing 4, 5, .*, 23, \.\.\. \(9007199254740987\)\)$/,
    );
  });

  it('malformed input: counted, never judged as events', () => {
    const bad = [
      null,
      'text',
      42,
      [ev(9)],
      {},
      { ...ev(2), id: 7 },
      { ...ev(2), seq: 0 },
      { ...ev(2), seq: '2' },
      { ...ev(2), seq: 1.5 },
      { ...ev(2), bootId: undefined },
      { ...ev(2), gatewayId: null },
      { ...ev(2), type: 3 },
    ];
    const c = new DeliveryChecker();
    expect(bad.map((b) => c.receive(b))).toEqual(bad.map(() => false));
    for (const e of boot(1, 3)) c.receive(e);
    const v = c.verdict();
    expect(v.malformed).toBe(bad.length);
    expect(v.distinct).toBe(3);
    expect(v.problems).toEqual([`${bad.length} malformed events`]);
  });
});

describe('alarms a gateway reports lost (gateway.events_lost)', () => {
  it('fails naming them, even after the last seq received and with shed counters that cover them', () => {
    const c = new DeliveryChecker();
    c.receive(started(1));
    for (let s = 2; s <= 5; s++) c.receive(ev(s));
    // Seqs 6-9 (two presses and their alerts) were not stored; the report (seq 10) went from memory.
    // The shed counters say 4 critical lost, which would otherwise account for the gap.
    c.receive(shedReport(11, { critical: 4, high: 0, normal: 0, low: 0 }));
    c.receive(
      ev(10, {
        type: 'gateway.events_lost',
        priority: 'critical',
        data: { count: 4, seqs: [[6, 9]], types: { 'alarm.pressed': 2, 'alert.raised': 2 }, reason: 'SQLITE_FULL' },
      }),
    );
    const v = c.verdict();
    expect(v.ok).toBe(false);
    expect(v.reportedLost).toEqual({ 'gw-1': [6, 7, 8, 9] });
    expect(v.problems).toContainEqual(
      'gw-1: 4 alarm events lost, reported by the gateway (gateway.events_lost: 2 alarm.pressed, 2 alert.raised): seqs 6, 7, 8, 9',
    );
  });

  it('refuses a report whose seqs are not ranges, and bounds a huge range', () => {
    const c = new DeliveryChecker();
    c.receive(started(1));
    c.receive(ev(2, { type: 'gateway.events_lost', priority: 'critical', data: { seqs: [[5, 3], 'x'] } }));
    c.receive(ev(3, { type: 'gateway.events_lost', priority: 'critical', data: { seqs: [[10, 1e15]] } }));
    const v = c.verdict();
    expect(v.ok).toBe(false);
    expect(v.problems.filter((p) => p.includes('bad seq range'))).toHaveLength(2);
    expect(v.reportedLost['gw-1']).toHaveLength(MAX_MISSING_LISTED);
  });

  it("bounds the work and the lines of a stranger's report: 100,000 bad ranges, then 1.7 million copies of [1, 9999]", () => {
    const c = new DeliveryChecker();
    c.receive(started(1));
    const seqs = [...Array.from({ length: 100_000 }, () => 'x'), ...Array.from({ length: 1_700_000 }, () => [1, 9999])];
    c.receive(ev(2, { type: 'gateway.events_lost', priority: 'critical', data: { seqs } }));
    const v = c.verdict();
    expect(v.ok).toBe(false);
    expect(v.reportedLost['gw-1']).toHaveLength(Math.min(9999, MAX_MISSING_LISTED));
    const lines = v.problems.filter((p) => p.includes('gateway.events_lost'));
    expect(lines.filter((p) => p.includes(': bad seq range'))).toHaveLength(5);
    expect(lines).toContainEqual(expect.stringMatching(/99995 more bad seq ranges/));
    expect(lines).toContainEqual(expect.stringMatching(/names more than \d+ seqs: the rest is not counted/));
  });
});
