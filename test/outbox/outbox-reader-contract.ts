/**
 * What every implementation of the outbox's reader port (core/contracts/outbox-store.ts:
 * OutboxReader) must do for the drain, as one suite: outbox-reader.test.ts runs it against the
 * SQLite outbox (what the uplink reads), the fleet twin's MemoryOutbox and the tests'
 * ArrayOutbox, so a drain test on a stand-in stands on what the real outbox does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PRIORITIES, PRIORITY_RANK, type GatewayEvent, type Priority } from '../../core/contracts/event.js';
import { ROUTE, type Cursor, type OutboxReader, type OutboxRow } from '../../core/contracts/outbox-store.js';

/** A reader and the way its implementation stores events. */
export interface OutboxReaderRig {
  reader: OutboxReader;
  /** Stores the events in this order; resolves once they are committed and 'stored' was told. */
  store(events: GatewayEvent[]): Promise<void>;
  close(): void;
}

/** Events as the agent makes them: one of this priority with a fresh seq (`health`: typed gateway.health, routed apart). */
export type MakeEvent = (priority: Priority, health?: boolean) => GatewayEvent;

const idOf = (r: OutboxRow) => (JSON.parse(r.body) as GatewayEvent).id;

/** Every row, a page of `limit` at a time, each page after the last row of the one before. */
function readAll(reader: OutboxReader, limit: number): OutboxRow[] {
  const rows: OutboxRow[] = [];
  let cursor: Cursor | null = null;
  for (;;) {
    const page = reader.readPage(cursor, limit);
    expect(page.length).toBeLessThanOrEqual(limit);
    rows.push(...page);
    if (page.length < limit) return rows;
    const last = page[page.length - 1]!;
    cursor = { prio: last.prio, pos: last.pos };
  }
}

export function outboxReaderContract(name: string, makeRig: () => OutboxReaderRig, makeEvent: () => MakeEvent): void {
  describe(`outbox reader port: ${name}`, () => {
    let rig: OutboxReaderRig;
    let make: MakeEvent;
    beforeEach(() => {
      rig = makeRig();
      make = makeEvent();
    });
    afterEach(() => rig.close());

    /** Low, critical, normal, high, health (normal), low, critical, normal: stored in this order. */
    const mixed = () => [
      make('low'),
      make('critical'),
      make('normal'),
      make('high'),
      make('normal', true),
      make('low'),
      make('critical'),
      make('normal'),
    ];

    it('is empty at first', () => {
      expect(rig.reader.readPage(null, 10)).toEqual([]);
      expect(PRIORITIES.map((_, rank) => rig.reader.waiting(rank))).toEqual([0, 0, 0, 0]);
    });

    it('reads in replay order: most urgent priority first, the order stored within one', async () => {
      const events = mixed();
      await rig.store(events);
      const rows = rig.reader.readPage(null, 100);
      const expected = PRIORITIES.flatMap((p) => events.filter((e) => e.priority === p));
      expect(rows.map(idOf)).toEqual(expected.map((e) => e.id));
      expect(rows.map((r) => r.prio)).toEqual(expected.map((e) => PRIORITY_RANK[e.priority]));
    });

    it('gives each row its event as stored: body, bytes, seq, route, and a pos above the row before it', async () => {
      const events = mixed();
      await rig.store(events);
      for (const r of rig.reader.readPage(null, 100)) {
        const e = events.find((x) => x.id === idOf(r))!;
        expect(JSON.parse(r.body)).toEqual(e);
        expect(r.bytes).toBe(Buffer.byteLength(r.body));
        expect(r.seq).toBe(e.seq);
        expect(r.route).toBe(e.type === 'gateway.health' ? ROUTE.health : ROUTE.events);
        expect(r.prevPos).toBeLessThan(r.pos);
      }
    });

    it('pages: a page of any size after the last row read gives every row once, in the same order', async () => {
      await rig.store(mixed());
      const whole = rig.reader.readPage(null, 100).map(idOf);
      for (const limit of [1, 2, 3, 7]) expect(readAll(rig.reader, limit).map(idOf)).toEqual(whole);
    });

    it('tells "stored" with the events once they can be read', async () => {
      const told: { ids: string[]; readable: string[] }[] = [];
      rig.reader.on('stored', (events) =>
        told.push({ ids: events.map((e) => e.id), readable: rig.reader.readPage(null, 100).map(idOf) }),
      );
      const events = [make('normal'), make('critical')];
      await rig.store(events);
      const ids = told.flatMap((t) => t.ids);
      expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
      for (const t of told) expect(t.readable).toEqual(expect.arrayContaining(t.ids));
    });

    it('does not return, after a cursor, a row more urgent than it stored since (the drain starts again from the top)', async () => {
      await rig.store([make('normal'), make('normal')]);
      const first = rig.reader.readPage(null, 1)[0]!;
      const alarm = make('critical');
      await rig.store([alarm]);
      const after = rig.reader.readPage({ prio: first.prio, pos: first.pos }, 100);
      expect(after.map(idOf)).not.toContain(alarm.id);
      expect(after).toHaveLength(1);
      expect(rig.reader.readPage(null, 1).map(idOf)).toEqual([alarm.id]);
    });

    it('counts what waits per priority, rows read but not deleted included', async () => {
      await rig.store(mixed());
      rig.reader.readPage(null, 100);
      expect(PRIORITIES.map((_, rank) => rig.reader.waiting(rank))).toEqual([2, 1, 3, 2]);
    });

    it('deletes exactly the rows given, in any order, and says how many went', async () => {
      await rig.store(mixed());
      const rows = rig.reader.readPage(null, 100);
      // The second alarm and the first normal event, out of replay order, first.
      const gone = [rows[1]!, rows[3]!];
      expect(rig.reader.delete([gone[1]!, gone[0]!])).toBe(2);
      const left = rig.reader.readPage(null, 100).map(idOf);
      expect(left).toEqual(rows.filter((r) => !gone.includes(r)).map(idOf));
      expect(PRIORITIES.map((_, rank) => rig.reader.waiting(rank))).toEqual([1, 1, 2, 2]);
      // Deleted already: nothing more goes.
      expect(rig.reader.delete(gone)).toBe(0);
      expect(rig.reader.readPage(null, 100).map(idOf)).toEqual(left);
      // The rest, and the reader is empty.
      expect(rig.reader.delete(rig.reader.readPage(null, 100))).toBe(left.length);
      expect(rig.reader.readPage(null, 100)).toEqual([]);
      expect(PRIORITIES.map((_, rank) => rig.reader.waiting(rank))).toEqual([0, 0, 0, 0]);
    });

    it('never gives a pos twice, even once every row was deleted (the drain tells rows apart by pos)', async () => {
      await rig.store([make('normal'), make('critical')]);
      const before = rig.reader.readPage(null, 100);
      rig.reader.delete(before);
      await rig.store([make('normal'), make('critical')]);
      const after = rig.reader.readPage(null, 100);
      const highest = Math.max(...before.map((r) => r.pos));
      expect(after.map((r) => r.pos).filter((pos) => pos <= highest)).toEqual([]);
    });

    it('reads on after a cursor whose row was deleted since', async () => {
      await rig.store([make('normal'), make('normal'), make('normal')]);
      const [a, b, c] = rig.reader.readPage(null, 100);
      rig.reader.delete([a!, b!]);
      expect(rig.reader.readPage({ prio: b!.prio, pos: b!.pos }, 100).map(idOf)).toEqual([idOf(c!)]);
    });

    it('hands out copies: emptying a row read (as the drain does once it is on the wire) leaves the store as it was', async () => {
      const e = make('high');
      await rig.store([e]);
      const [row] = rig.reader.readPage(null, 1);
      row!.body = '';
      expect(rig.reader.readPage(null, 1).map((r) => JSON.parse(r.body) as GatewayEvent)).toEqual([e]);
    });
  });
}
