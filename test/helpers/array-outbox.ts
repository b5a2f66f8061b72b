/**
 * An outbox as an array of rows, for driving the drain with fake timers and a stand-in client:
 * the same OutboxReader port the SQLite outbox offers (replay order, delete, stored events),
 * nothing durable. Tests push rows and emit 'stored' themselves, or put() events as the
 * outbox stores them. test/outbox/outbox-reader.test.ts holds it to the port's contract.
 */
import { EventEmitter } from 'node:events';
import { PRIORITY_RANK, type GatewayEvent } from '../../core/contracts/event.js';
import { ROUTE, type Cursor, type OutboxReader, type OutboxRow } from '../../core/contracts/outbox-store.js';

export class ArrayOutbox extends EventEmitter implements OutboxReader {
  /** The highest pos put() gave: a pos is never given twice, as in the outbox (segment.ts says why). */
  private lastPos = 0;

  constructor(public rows: OutboxRow[] = []) {
    super();
  }

  /** Stores events as rows after every pos held or given, then says so ('stored'), as the outbox after a commit. */
  put(events: GatewayEvent[]): void {
    let pos = this.rows.reduce((max, r) => Math.max(max, r.pos), this.lastPos);
    for (const e of events) {
      const body = JSON.stringify(e);
      const prio = PRIORITY_RANK[e.priority];
      const prevPos = this.rows.reduce((p, r) => (r.prio === prio ? Math.max(p, r.pos) : p), 0);
      pos += 1;
      const route = e.type === 'gateway.health' ? ROUTE.health : ROUTE.events;
      this.rows.push({ pos, prevPos, seq: e.seq, prio, segment: 'array', route, bytes: Buffer.byteLength(body), body });
    }
    this.lastPos = pos;
    this.emit('stored', events);
  }

  readPage(cursor: Cursor | null, limit: number): OutboxRow[] {
    const sorted = [...this.rows].sort((a, b) => a.prio - b.prio || a.pos - b.pos);
    return sorted
      .filter((r) => !cursor || r.prio > cursor.prio || (r.prio === cursor.prio && r.pos > cursor.pos))
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  delete(rows: readonly OutboxRow[]): number {
    const gone = new Set(rows.map((r) => r.pos));
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => !gone.has(r.pos));
    return before - this.rows.length;
  }

  waiting(prio: number): number {
    return this.rows.filter((r) => r.prio === prio).length;
  }
}
