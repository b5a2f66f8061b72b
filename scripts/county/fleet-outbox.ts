/**
 * An outbox in memory for a fleet twin: the agent's real Uplink (Connection + Drain) reads it
 * through the same OutboxReader port it reads the SQLite outbox through, so what goes on the
 * wire (batching, alarms first, window, PUBACK before delete, re-send after a drop) is exactly
 * the agent's. Only durability is missing: a twin is a load generator, not a gateway.
 */
import { EventEmitter } from 'node:events';
import { PRIORITY_RANK, type GatewayEvent } from '../../core/contracts/event.js';
import { ROUTE, type Cursor, type OutboxReader, type OutboxRow } from '../../core/contracts/outbox-store.js';

const RANKS = 4;
/** Deleted positions kept before the queues are compacted. */
const COMPACT_AFTER = 1024;

export class MemoryOutbox extends EventEmitter<{ stored: [GatewayEvent[]] }> implements OutboxReader {
  /** Per priority rank, rows in insertion (pos) order; deleted ones stay until compaction. */
  private readonly queues: OutboxRow[][] = Array.from({ length: RANKS }, () => []);
  private readonly deleted = new Set<number>();
  private nextPos = 1;
  private live = 0;
  private readonly liveByRank = Array.from({ length: RANKS }, () => 0);

  /** Events waiting for their PUBACK. */
  get size(): number {
    return this.live;
  }

  /**
   * Stores events (in memory) and tells the drain, as the SQLite outbox does after a commit; with
   * `notify` false the drain is told later (`notify`), as a backlog already stored waits for a link.
   */
  put(events: GatewayEvent[], notify = true): void {
    if (events.length === 0) return;
    for (const ev of events) {
      const prio = PRIORITY_RANK[ev.priority];
      const queue = this.queues[prio]!;
      const body = JSON.stringify(ev);
      queue.push({
        pos: this.nextPos,
        prevPos: queue.length > 0 ? queue[queue.length - 1]!.pos : 0,
        seq: ev.seq,
        prio,
        segment: 'memory',
        route: ev.type === 'gateway.health' ? ROUTE.health : ROUTE.events,
        bytes: Buffer.byteLength(body),
        body,
      });
      this.nextPos += 1;
      this.live += 1;
      this.liveByRank[prio]! += 1;
    }
    if (notify) this.notify(events);
  }

  notify(events: GatewayEvent[]): void {
    this.emit('stored', events);
  }

  waiting(prio: number): number {
    return this.liveByRank[prio] ?? 0;
  }

  readPage(cursor: Cursor | null, limit: number): OutboxRow[] {
    const page: OutboxRow[] = [];
    for (let prio = cursor?.prio ?? 0; prio < RANKS && page.length < limit; prio++) {
      const queue = this.queues[prio]!;
      let i = cursor && prio === cursor.prio ? firstAfter(queue, cursor.pos) : 0;
      for (; i < queue.length && page.length < limit; i++) {
        const row = queue[i]!;
        // A copy: the drain empties a row's body once it is on the wire, and a reconnect reads it again.
        if (!this.deleted.has(row.pos)) page.push({ ...row });
      }
    }
    return page;
  }

  delete(rows: readonly OutboxRow[]): number {
    let n = 0;
    for (const row of rows) {
      if (this.deleted.has(row.pos)) continue;
      this.deleted.add(row.pos);
      this.liveByRank[row.prio]! -= 1;
      n += 1;
    }
    this.live -= n;
    if (this.deleted.size >= COMPACT_AFTER) this.compact();
    return n;
  }

  private compact(): void {
    for (let p = 0; p < RANKS; p++) this.queues[p] = this.queues[p]!.filter((r) => !this.deleted.has(r.pos));
    this.deleted.clear();
  }
}

/** Index of the first row with pos > `pos` (rows are in pos order). */
function firstAfter(rows: OutboxRow[], pos: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]!.pos <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
