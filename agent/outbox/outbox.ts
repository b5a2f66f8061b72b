/**
 * The outbox: the durability boundary between the gateway and the link.
 *
 * - put() resolves only once the event is committed: critical and high one by one (each
 *   commit fsynced), the rest in group commits at most `groupCommitMs` old.
 * - Replay order is priority, then seq; reads are paged so memory does not grow with the backlog.
 * - Caps by bytes: when full, shed low, then normal, then high, oldest first; an event only
 *   ever displaces events of its own or lower priority, and critical is never shed: a
 *   reserve is kept for it. Every shed event is counted (persisted) and reported.
 * - Rows are deleted only by the uplink, after the broker's acknowledgement.
 */
import type Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { PRIORITY_RANK, PRIORITIES, type GatewayEvent, type Priority } from '../contracts/event.js';
import type { OutboxConfig } from '../../config/schema/gateway-config.js';
import { openStore, TABLES, type Recovery } from './open-store.js';
import { PriorityTable, type StoredRow } from './priority-table.js';
import { ShedLedger, type ShedReason } from './shed-ledger.js';

export type OutboxRow = StoredRow;

/** Position in replay order: (priority rank, seq). */
export interface Cursor {
  prio: number;
  seq: number;
}

export interface BacklogStats {
  count: number;
  bytes: number;
}

export interface OutboxStats {
  backlog: Record<Priority, BacklogStats>;
  total: BacklogStats;
  oldestCreatedMs: number | null;
  shed: Record<Priority, number>;
  pending: number;
}

interface Pending {
  event: GatewayEvent;
  body: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface OutboxOptions {
  dir: string;
  config: OutboxConfig;
  now?: () => number;
}

export class Outbox extends EventEmitter<{ stored: [GatewayEvent[]]; shed: [{ priority: Priority; count: number; reason: ShedReason }] }> {
  readonly recovered: Recovery | null;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly totals: BacklogStats[] = PRIORITIES.map(() => ({ count: 0, bytes: 0 }));
  private readonly ledger: ShedLedger;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly tables: PriorityTable[];

  constructor(private readonly opts: OutboxOptions) {
    super();
    this.now = opts.now ?? Date.now;
    const opened = openStore(opts.dir, 'outbox.db', this.now);
    this.db = opened.db;
    this.recovered = opened.recovered;
    this.tables = TABLES.map((name, prio) => new PriorityTable(this.db, name, prio));
    this.ledger = new ShedLedger(this.db);
    this.reloadTotals();
  }

  /** Highest seq in the store (a floor for the sequence counter if its file was lost). */
  maxSeq(): number {
    return Math.max(...this.tables.map((t) => t.maxSeq()));
  }

  /** Resolves once the event is on disk. Rejects when it could not be stored (it was shed as it came in, or the disk failed). */
  put(event: GatewayEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('outbox is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ event, body: JSON.stringify(event), resolve, reject });
      const urgent = PRIORITY_RANK[event.priority] <= PRIORITY_RANK.high;
      if (urgent || this.pending.length >= 2000) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.config.groupCommitMs);
    });
  }

  /** Commits everything pending in one transaction (one fsync). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const outcome: (Error | null)[] = [];
    try {
      this.db.transaction(() => {
        for (const p of batch) outcome.push(this.insertWithinCaps(p));
        this.ledger.persist();
      })();
    } catch (err) {
      this.reloadTotals(); // the transaction rolled back: our in-memory view must follow
      this.ledger.reload();
      for (const p of batch) p.reject(err as Error);
      return;
    }
    const stored: GatewayEvent[] = [];
    batch.forEach((p, i) => {
      const e = outcome[i];
      if (e) p.reject(e);
      else {
        stored.push(p.event);
        p.resolve();
      }
    });
    for (const ev of this.ledger.drainNotices()) this.emit('shed', ev);
    if (stored.length > 0) this.emit('stored', stored);
  }

  private insertWithinCaps(p: Pending): Error | null {
    const rank = PRIORITY_RANK[p.event.priority];
    const bytes = Buffer.byteLength(p.body);
    const cfg = this.opts.config;
    if (rank === 0) {
      // Critical: displace lower priorities if the store is full, but never refuse.
      this.shedUntil(() => this.totalBytes() + bytes <= cfg.maxBytes, 3, 1);
    } else {
      const critical = this.totals[0]!.bytes;
      const limit = cfg.maxBytes - Math.max(cfg.criticalReserveBytes, critical);
      const fits = () => this.totalBytes() - this.totals[0]!.bytes + bytes <= limit;
      this.shedUntil(fits, 3, rank);
      if (!fits()) {
        this.ledger.count(p.event.priority, 1, 'full');
        return new OutboxFullError(p.event.priority);
      }
    }
    this.tables[rank]!.insert(p.event.seq, p.event.id, p.event.type, this.now(), bytes, p.body);
    const t = this.totals[rank]!;
    t.count += 1;
    t.bytes += bytes;
    return null;
  }

  /** Deletes oldest rows from rank `from` down to rank `to` (low first) until `done()`. */
  private shedUntil(done: () => boolean, from: number, to: number): void {
    for (let rank = from; rank >= to && !done(); rank--) {
      while (!done() && this.totals[rank]!.count > 0) {
        const victims = this.tables[rank]!.oldest();
        if (victims.length === 0) break;
        for (const v of victims) {
          if (done()) break;
          this.tables[rank]!.deleteSeq(v.seq);
          this.totals[rank]!.count -= 1;
          this.totals[rank]!.bytes -= v.bytes;
          this.ledger.count(PRIORITIES[rank]!, 1, 'full');
        }
      }
    }
  }

  /** Up to `limit` committed rows after `cursor` in replay order. */
  readPage(cursor: Cursor | null, limit: number): OutboxRow[] {
    const rows: OutboxRow[] = [];
    for (let prio = cursor?.prio ?? 0; prio < PRIORITIES.length && rows.length < limit; prio++) {
      const after = cursor && prio === cursor.prio ? cursor.seq : 0;
      if (this.totals[prio]!.count === 0) continue;
      rows.push(...this.tables[prio]!.page(after, limit - rows.length));
    }
    return rows;
  }

  /**
   * Deletes acknowledged rows (as read by readPage, so each knows its neighbour). The
   * totals stay exact from the rows in hand; if some row had been shed meanwhile they are
   * recounted instead (rare).
   */
  delete(rows: readonly OutboxRow[]): number {
    if (rows.length === 0 || this.closed) return 0;
    const byPrio: OutboxRow[][] = PRIORITIES.map(() => []);
    for (const r of rows) byPrio[r.prio]!.push(r);
    let removed = 0;
    // No fsync for deletes (synchronous=NORMAL): a delete lost in a power cut only re-sends
    // events the county already has, with the same ids. The next FULL commit (any insert)
    // makes these WAL frames durable too. Measured: fsyncing each delete group cost ~half
    // of the drain's time.
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(() => {
        byPrio.forEach((list, prio) => {
          if (list.length > 0) removed += this.tables[prio]!.deleteRows(list);
        });
      })();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    if (removed === rows.length) {
      for (const r of rows) {
        this.totals[r.prio]!.count -= 1;
        this.totals[r.prio]!.bytes -= r.bytes;
      }
    } else this.reloadTotals();
    return removed;
  }

  /** Removes events older than their priority's age cap; counted as shed ('age'). */
  sweepAges(): number {
    let removed = 0;
    this.db.transaction(() => {
      for (const prio of ['high', 'normal', 'low'] as const) {
        const maxAge = this.opts.config.maxAgeSec[prio];
        if (maxAge === undefined) continue;
        const rank = PRIORITY_RANK[prio];
        const rows = this.tables[rank]!.deleteOlderThan(this.now() - maxAge * 1000);
        for (const r of rows) {
          this.totals[rank]!.count -= 1;
          this.totals[rank]!.bytes -= r.bytes;
        }
        if (rows.length > 0) this.ledger.count(prio, rows.length, 'age');
        removed += rows.length;
      }
      this.ledger.persist();
    })();
    for (const ev of this.ledger.drainNotices()) this.emit('shed', ev);
    return removed;
  }

  stats(): OutboxStats {
    const backlog = Object.fromEntries(PRIORITIES.map((p, i) => [p, { ...this.totals[i]! }])) as Record<Priority, BacklogStats>;
    const firsts = this.tables.map((t) => t.firstCreatedMs()).filter((v): v is number => v !== null);
    return {
      backlog,
      total: { count: this.totals.reduce((a, t) => a + t.count, 0), bytes: this.totalBytes() },
      oldestCreatedMs: firsts.length > 0 ? Math.min(...firsts) : null,
      shed: this.ledger.totals(),
      pending: this.pending.length,
    };
  }

  get size(): number {
    return this.totals.reduce((a, t) => a + t.count, 0);
  }

  private totalBytes(): number {
    return this.totals.reduce((a, t) => a + t.bytes, 0);
  }

  private reloadTotals(): void {
    this.tables.forEach((t, prio) => (this.totals[prio] = t.totals()));
  }

  /** Commits what is pending, then closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

export class OutboxFullError extends Error {
  readonly code = 'OUTBOX_FULL';
  constructor(readonly priority: Priority) {
    super(`outbox full: ${priority} event refused (no room without displacing higher priorities)`);
  }
}
