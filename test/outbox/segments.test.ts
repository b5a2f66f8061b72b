/** The outbox across segment boundaries (tiny segments): watermarks, drops, reopen, strays. */
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.js';
import type { Cursor, OutboxRow } from '../../core/contracts/outbox-store.js';
import type { Priority } from '../../core/contracts/event.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { eventMaker } from '../helpers/events.js';
import { outboxConfig } from '../helpers/agent-config.js';

const tempDir = useTempDirs();
const SEG = 16;
const open = (dir: string, over: Parameters<typeof outboxConfig>[0] = {}) =>
  new Outbox({ dir, config: outboxConfig(over), segmentRows: SEG });
const idOf = (r: OutboxRow) => (JSON.parse(r.body) as { id: string }).id;

function readAll(ob: Outbox, pageSize = 7): OutboxRow[] {
  const out: OutboxRow[] = [];
  let cursor: Cursor | null = null;
  for (;;) {
    const page = ob.readPage(cursor, pageSize);
    if (page.length === 0) return out;
    out.push(...page);
    const last = page.at(-1)!;
    cursor = { prio: last.prio, pos: last.pos };
  }
}

async function fill(dir: string, ob: Outbox, n: number, priority: Priority = 'normal') {
  const make = eventMaker(dir);
  const events = Array.from({ length: n }, () => make(priority));
  await Promise.all(events.map((e) => ob.put(e)));
  return events;
}

describe('outbox segments', () => {
  it('acknowledges across many segments, drops finished ones, and stays empty after reopen', async () => {
    const dir = tempDir();
    const ob = open(dir);
    const events = await fill(dir, ob, 200);
    expect(ob.stats().segments).toBe(Math.ceil(200 / SEG));
    const rows = readAll(ob);
    expect(rows.map(idOf)).toEqual(events.map((e) => e.id));
    for (let i = 0; i < rows.length; i += 9) ob.delete(rows.slice(i, i + 9));
    expect(ob.size).toBe(0);
    expect(ob.stats().backlog.normal).toEqual({ count: 0, bytes: 0 });
    expect(ob.stats().segments).toBeLessThanOrEqual(1); // only a last, unfinished one may stay
    const maxSeq = ob.maxSeq();
    ob.close();
    const again = open(dir);
    expect(again.size).toBe(0);
    expect(readAll(again)).toEqual([]);
    expect(again.maxSeq()).toBe(maxSeq); // remembered even though its segment is gone
    again.close();
  });

  it('resumes exactly after the acknowledged part when reopened mid-drain', async () => {
    const dir = tempDir();
    const ob = open(dir);
    const events = await fill(dir, ob, 100);
    const rows = readAll(ob, 13);
    ob.delete(rows.slice(0, 37));
    expect(ob.size).toBe(63);
    ob.close();
    const again = open(dir);
    expect(again.size).toBe(63);
    expect(readAll(again).map(idOf)).toEqual(events.slice(37).map((e) => e.id));
    again.close();
  });

  it('handles acknowledgements out of order (strays) with exact counts', async () => {
    const dir = tempDir();
    const ob = open(dir);
    const events = await fill(dir, ob, 60);
    const rows = readAll(ob);
    const odd = rows.filter((_, i) => i % 2 === 1);
    expect(ob.delete([...odd].reverse())).toBe(30);
    expect(ob.size).toBe(30);
    expect(ob.delete(odd)).toBe(0); // twice: nothing more
    const even = rows.filter((_, i) => i % 2 === 0);
    expect(readAll(ob).map(idOf)).toEqual(even.map(idOf));
    ob.close();
    const again = open(dir);
    expect(readAll(again).map(idOf)).toEqual(events.filter((_, i) => i % 2 === 0).map((e) => e.id));
    expect(again.delete(readAll(again))).toBe(30);
    expect(again.size).toBe(0);
    again.close();
  });

  it('sheds across segments oldest first, and an acknowledgement of a shed row counts nothing', async () => {
    const dir = tempDir();
    const make = eventMaker(dir);
    const size = Buffer.byteLength(JSON.stringify(make('low')));
    const ob = open(dir, { maxBytes: size * 50, criticalReserveBytes: size * 10 });
    const lows = Array.from({ length: 40 }, () => make('low'));
    for (const e of lows) await ob.put(e);
    const inFlight = ob.readPage(null, 5); // the drain holds the 5 oldest
    const more = Array.from({ length: 25 }, () => make('low'));
    for (const e of more) await ob.put(e);
    expect(ob.stats().shed.low).toBe(25);
    expect(ob.size).toBe(40);
    expect(ob.delete(inFlight)).toBe(0); // shed while in flight: already gone
    expect(ob.size).toBe(40);
    expect(readAll(ob).map(idOf)).toEqual([...lows, ...more].slice(25).map((e) => e.id));
    ob.close();
    const again = open(dir, { maxBytes: size * 50, criticalReserveBytes: size * 10 });
    expect(again.size).toBe(40);
    expect(again.stats().shed.low).toBe(25);
    again.close();
  });

  it('replays a critical event first even when it lands mid-backlog', async () => {
    const dir = tempDir();
    const ob = open(dir);
    await fill(dir, ob, 40, 'low');
    const [critical] = await fill(dir, ob, 1, 'critical');
    await fill(dir, ob, 40, 'normal');
    const rows = readAll(ob);
    expect(idOf(rows[0]!)).toBe(critical!.id);
    expect(rows.map((r) => r.prio)).toEqual([0, ...Array(40).fill(2), ...Array(40).fill(3)]);
    ob.close();
  });
});
