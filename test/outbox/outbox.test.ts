import { describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.js';
import { PRIORITIES, type Priority } from '../../core/contracts/event.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { outboxConfig } from '../helpers/agent-config.js';

const tempDir = useTempDirs();

describe('outbox', () => {
  it('replays by priority, then seq, in pages', async () => {
    const dir = tempDir();
    const ob = new Outbox({ dir, config: outboxConfig() });
    const make = eventMaker(dir);
    const order: Priority[] = ['low', 'normal', 'critical', 'high', 'low', 'critical', 'normal'];
    const events = order.map((p) => make(p));
    await Promise.all(events.map((e) => ob.put(e)));
    const seen: number[] = [];
    let cursor = null;
    for (;;) {
      const page = ob.readPage(cursor, 3);
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.seq));
      const last = page[page.length - 1]!;
      cursor = { prio: last.prio, pos: last.pos };
    }
    const expected = [...events]
      .sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.seq - b.seq)
      .map((e) => e.seq);
    expect(seen).toEqual(expected);
    ob.close();
  });

  it('acknowledges only after commit, and keeps events across reopen', async () => {
    const dir = tempDir();
    const make = eventMaker(dir);
    const ob = new Outbox({ dir, config: outboxConfig() });
    const normal = make('normal');
    const p = ob.put(normal);
    expect(ob.readPage(null, 10)).toHaveLength(0); // grouped: not yet committed
    await p;
    expect(ob.readPage(null, 10).map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([normal.id]);
    const critical = make('critical');
    await ob.put(critical);
    ob.close();
    const again = new Outbox({ dir, config: outboxConfig() });
    expect(again.readPage(null, 10).map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([
      critical.id,
      normal.id,
    ]);
    expect(again.maxSeq()).toBe(critical.seq);
    again.close();
  });

  it('deletes acknowledged rows and tracks the backlog exactly', async () => {
    const dir = tempDir();
    const ob = new Outbox({ dir, config: outboxConfig() });
    const make = eventMaker(dir);
    const evs = [make('high'), make('normal'), make('normal')];
    await Promise.all(evs.map((e) => ob.put(e)));
    const row = ob.readPage(null, 10).find((r) => r.seq === evs[1]!.seq)!;
    expect(ob.delete([row])).toBe(1);
    expect(ob.delete([row, { ...row, pos: 999999, prevPos: 999998 }])).toBe(0); // gone already: totals stay exact
    const s = ob.stats();
    expect(s.backlog.normal.count).toBe(1);
    expect(s.backlog.high.count).toBe(1);
    expect(s.total.count).toBe(2);
    ob.close();
  });

  it('counts a row once when a second copy of it is acknowledged after it was deleted out of order', async () => {
    // A reconnect while a delete was failing re-reads and re-sends rows: two copies in flight.
    const dir = tempDir();
    const ob = new Outbox({ dir, config: outboxConfig() });
    const make = eventMaker(dir);
    await Promise.all([make('normal'), make('normal'), make('normal')].map((e) => ob.put(e)));
    ob.flush();
    const [a, b] = ob.readPage(null, 10);
    expect(ob.delete([b!])).toBe(1); // out of order: deleted for real
    expect(ob.delete([a!])).toBe(1); // the watermark moves over a
    expect(ob.delete([b!])).toBe(0); // the second copy: gone already, counted then
    expect(ob.size).toBe(1);
    expect(ob.readPage(null, 10).map((r) => r.seq)).toEqual([b!.seq + 1]);
    ob.close();
  });

  it('sheds low, then normal, then high, oldest first; never critical; counts exactly', async () => {
    const dir = tempDir();
    const make = eventMaker(dir);
    const sample = make('low', 400);
    const size = Buffer.byteLength(JSON.stringify(sample)); // all events below have this size
    // Room for 10 events; 2 of them reserved for critical.
    const ob = new Outbox({ dir, config: outboxConfig({ maxBytes: size * 10, criticalReserveBytes: size * 2 }) });
    const put = (p: Priority) => ob.put(make(p, 400));
    const lows = await Promise.allSettled(Array.from({ length: 5 }, () => put('low')));
    const normals = await Promise.allSettled(Array.from({ length: 4 }, () => put('normal')));
    // 8 non-critical slots: 5 low + 3 normal fit, the 4th normal displaced the oldest low.
    expect([...lows, ...normals].every((r) => r.status === 'fulfilled')).toBe(true);
    let s = ob.stats();
    expect(s.backlog.low.count).toBe(4);
    expect(s.backlog.normal.count).toBe(4);
    expect(s.shed.low).toBe(1);

    // A low event cannot displace normal ones once lows are gone: it is refused, and counted.
    await Promise.allSettled(Array.from({ length: 4 }, () => put('high'))); // displaces the 4 lows
    s = ob.stats();
    expect(s.backlog.low.count).toBe(0);
    expect(s.shed.low).toBe(5);
    await expect(put('low')).rejects.toThrow(/outbox full/);
    expect(ob.stats().shed.low).toBe(6);

    // Critical fills its reserve, then displaces normal (oldest) then high, never refused.
    for (let i = 0; i < 6; i++) await put('critical');
    s = ob.stats();
    expect(s.backlog.critical.count).toBe(6);
    expect(s.backlog.normal.count).toBe(0);
    expect(s.backlog.high.count).toBe(4);
    expect(s.shed).toEqual({ critical: 0, high: 0, normal: 4, low: 6 });
    for (let i = 0; i < 8; i++) await put('critical');
    s = ob.stats();
    expect(s.backlog.critical.count).toBe(14); // over the cap: critical is never shed
    expect(s.shed).toEqual({ critical: 0, high: 4, normal: 4, low: 6 });
    // Oldest first: the normals that survived until critical came were the newest four.
    ob.close();
    const reopened = new Outbox({ dir, config: outboxConfig({ maxBytes: size * 10, criticalReserveBytes: size * 2 }) });
    expect(reopened.stats().shed).toEqual({ critical: 0, high: 4, normal: 4, low: 6 }); // persisted
    reopened.close();
  });

  it('sheds the oldest of a class first', async () => {
    const dir = tempDir();
    const make = eventMaker(dir);
    const size = Buffer.byteLength(JSON.stringify(make('low', 100)));
    const ob = new Outbox({ dir, config: outboxConfig({ maxBytes: size * 4, criticalReserveBytes: size }) });
    const evs = Array.from({ length: 5 }, () => make('low', 100));
    for (const e of evs) await ob.put(e);
    expect(ob.readPage(null, 10).map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual(
      evs.slice(2).map((e) => e.id),
    );
    ob.close();
  });

  it('ages out events past their priority cap and counts them', async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const make = eventMaker(dir);
    const ob = new Outbox({ dir, config: outboxConfig({ maxAgeSec: { low: 60 } }), clock });
    await ob.put(make('low'));
    await ob.put(make('critical'));
    clock.advance(61_000);
    await ob.put(make('low'));
    expect(ob.sweepAges()).toBe(1);
    expect(ob.stats().backlog.low.count).toBe(1);
    expect(ob.stats().backlog.critical.count).toBe(1);
    expect(ob.stats().shed.low).toBe(1);
    ob.close();
  });
});
