/**
 * An outbox as an array of rows, for driving the drain with fake timers and a stand-in client:
 * the same OutboxReader port the SQLite outbox offers (replay order, delete, stored events),
 * nothing durable. Tests push rows and emit 'stored' themselves.
 */
import { EventEmitter } from 'node:events';
import type { Cursor, OutboxReader, OutboxRow } from '../../core/contracts/outbox-store.js';

export class ArrayOutbox extends EventEmitter implements OutboxReader {
  constructor(public rows: OutboxRow[]) {
    super();
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
    this.rows = this.rows.filter((r) => !gone.has(r.pos));
    return rows.length;
  }

  waiting(prio: number): number {
    return this.rows.filter((r) => r.prio === prio).length;
  }
}
