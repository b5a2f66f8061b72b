/**
 * The outbox: the durability boundary between the gateway and the link.
 *
 * - put() resolves only once the event is committed: critical and high one by one (each
 *   commit synced: wal-sync.ts), the rest in group commits at most `groupCommitMs` old.
 * - Replay order is priority, then seq; reads are paged so memory does not grow with the backlog.
 * - Caps by bytes and age (caps.ts): when full, shed low, then normal, then high, oldest
 *   first; critical is never shed. Every shed event is counted (persisted) and reported.
 * - Rows leave only through the uplink, after the broker's acknowledgement (or by shedding).
 */
import type Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { PRIORITY_RANK, PRIORITIES, type GatewayEvent, type Priority } from '../../core/contracts/event.js';
import { openStore, type Recovery } from './open-store.js';
import { PriorityQueue, type CatalogRow } from './priority-queue.js';
import { ROUTE, type Cursor, type OutboxReader, type OutboxRow } from '../../core/contracts/outbox-store.js';
import { ShedLedger, type ShedReason } from './shed-ledger.js';
import { crashPoints } from '../crash-points.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { DiskFullError, StorageError } from './outbox-errors.js';
import { OutboxCaps } from './caps.js';
import { systemClock } from '../../core/kernel/system-clock.js';
import { OutboxClock, SAVED_CLOCK } from './outbox-clock.js';
import { DiskReserve, isDiskFull, walCheckpointPages } from './disk-reserve.js';
import { isAlarmClass } from './alarm-class.js';
import { LateWatermarks } from './late-watermarks.js';
import { withdrawRows, type WalSync } from './wal-sync.js';
import { outboxStats } from './outbox-stats.js';
import type { SalvageReport } from './salvage.js';
import { copySalvaged, resumeSalvage } from './salvage-marker.js';
import type { OutboxOptions, OutboxStats, StorageFailure } from './outbox-types.js';

export type { BacklogStats, OutboxOptions, OutboxStats, StorageFailure } from './outbox-types.js';
export { DiskFullError, OutboxFullError, StorageError } from './outbox-errors.js';

/** An event queued for the next commit, with its JSON and its producer's promise. */
type Pending = { event: GatewayEvent; body: string; resolve: () => void; reject: (err: Error) => void };

const SEQ_FLOOR = 'seq.floor';
const POS_FLOOR = 'pos.floor';

export class Outbox
  extends EventEmitter<{
    stored: [GatewayEvent[]];
    shed: [{ priority: Priority; count: number; reason: ShedReason }];
    storageFailure: [StorageFailure];
    reserveReleased: [{ freeBytes: number; reserveBytes: number }];
    reserveHeld: [boolean]; // told as the reserve is let go (before the alarms use it) and written again
  }>
  implements OutboxReader
{
  recovered: Recovery | null;
  private readonly db: Database.Database;
  private readonly wal: WalSync;
  private readonly now: () => number;
  private readonly queues: PriorityQueue[];
  private readonly ledger: ShedLedger;
  private readonly caps: OutboxCaps;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private salvaged = false;
  private seqFloor = 0;
  /** The next insertion position: above every pos ever stored here (see segment.ts for why). */
  private nextPos: number;
  private readonly time: OutboxClock;
  readonly reserve: DiskReserve;
  private readonly late: LateWatermarks;
  private readonly st;

  constructor(private readonly opts: OutboxOptions) {
    super();
    const clock = opts.clock ?? systemClock('always');
    const opened = openStore(opts.dir, 'outbox.db', clock.now, opts.walFs);
    this.db = opened.db;
    this.wal = opened.wal;
    this.recovered = opened.recovered;
    this.st = {
      catalog: this.db.prepare('SELECT name, prio, acked_through FROM segments'),
      counter: this.db.prepare('SELECT value FROM counters WHERE name = ?'),
      raise: this.db.prepare(
        'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)',
      ),
    };
    const catalog = this.st.catalog.all() as CatalogRow[];
    this.queues = PRIORITIES.map(
      (_, prio) => new PriorityQueue(this.db, prio, catalog, (dropped) => this.raiseFloors(dropped), opts.segmentRows),
    );
    this.ledger = new ShedLedger(this.db);
    this.caps = new OutboxCaps(this.queues, this.ledger, opts.config);
    this.seqFloor = this.counter(SEQ_FLOOR);
    this.nextPos = Math.max(this.counter(POS_FLOOR), ...this.queues.map((q) => q.maxPos())) + 1;
    this.time = new OutboxClock(this.counter(SAVED_CLOCK), clock, (name, value) => this.st.raise.run(name, value));
    this.reserve = new DiskReserve(opts.dir, opts.diskReserveBytes ?? 0, clock.monoMs, (held) => {
      this.db.pragma(`wal_autocheckpoint = ${walCheckpointPages(held)}`);
      this.emit('reserveHeld', held);
    });
    this.now = () => this.time.now();
    this.late = new LateWatermarks(clock.monoMs, () => this.writeWatermarks(), opts.lateWatermarkMs);
  }

  /**
   * Its own step after the open: copies what a moved-aside store (this open's, or an earlier
   * one's cut short) still holds into this one, once; returns the recovery to report, or null.
   */
  salvage(): Recovery | null {
    if (!this.salvaged) this.recovered = resumeSalvage(this.opts.dir, this.recovered, (f) => this.copyFrom(f));
    this.salvaged = true;
    return this.recovered;
  }

  /** Every readable undelivered row of a moved-aside store, at new positions (same events). */
  private copyFrom(file: string): SalvageReport {
    return copySalvaged(file, (rows) =>
      this.inTransaction(() => {
        for (const r of rows)
          this.queues[r.prio]!.insert(this.nextPos++, r.seq, r.id, r.route, r.createdMs, r.bytes, r.body);
      }),
    );
  }

  private counter(name: string): number {
    return (this.st.counter.get(name) as { value: number } | undefined)?.value ?? 0;
  }

  /** A dropped segment takes its rows with it: keep the highest seq and pos it held. */
  private raiseFloors(dropped: { maxSeq: number; lastPos: number }): void {
    this.seqFloor = Math.max(this.seqFloor, dropped.maxSeq);
    this.st.raise.run(SEQ_FLOOR, dropped.maxSeq);
    this.st.raise.run(POS_FLOOR, dropped.lastPos);
  }

  /** Highest seq ever stored here (a floor for the sequence counter if its file was lost). */
  maxSeq(): number {
    return Math.max(this.seqFloor, ...this.queues.map((q) => q.maxSeq()));
  }

  /**
   * Resolves once the event is on disk. Rejects when it could not be stored (it was shed as
   * it came in, or the disk failed). Critical and high commit at once, the rest within
   * `groupCommitMs`.
   */
  put(event: GatewayEvent): Promise<void> {
    const stored = this.enqueue(event);
    this.schedule(event.priority);
    return stored;
  }

  /**
   * Queues the event for the next commit without committing: the agent queues each event
   * the moment it gets its seq, before local consumers see it, so events commit in seq
   * order even when a consumer's reaction commits first. Call schedule() next.
   */
  enqueue(event: GatewayEvent): Promise<void> {
    if (this.closed) return Promise.reject(new GatewayError('OUTBOX_CLOSED', 'outbox is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ event, body: JSON.stringify(event), resolve, reject });
    });
  }

  /**
   * Commits now if an event of this priority must not wait (or the batch is large); else arms the group-commit
   * timer.
   */
  schedule(priority: Priority): void {
    if (this.pending.length === 0) return;
    if (PRIORITY_RANK[priority] <= PRIORITY_RANK.high || this.pending.length >= 2000) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.config.groupCommitMs);
  }

  /** Commits everything pending in one transaction (one fsync). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const firstPos = this.nextPos;
    let outcome: (Error | null)[] = [];
    try {
      this.inTransaction(() => {
        for (const p of batch) outcome.push(this.insertWithinCaps(p));
      });
    } catch (err) {
      const retried = this.retryUrgentInReserve(batch, err, firstPos);
      if (retried) {
        outcome = retried;
      } else {
        this.failBatch(batch, err, firstPos);
        return;
      }
    }
    if (!this.reserve.isHeld) this.reserve.restore();
    const stored: GatewayEvent[] = [];
    batch.forEach((p, i) => {
      const e = outcome[i];
      if (e) p.reject(e);
      else {
        stored.push(p.event);
        p.resolve();
      }
    });
    this.announceShedding();
    if (stored.length > 0) this.emit('stored', stored);
  }

  /**
   * The disk is full and the batch holds alarm-class events (alarm-class.ts): let the reserve
   * go and commit those alone (the rest are lost to the full disk, and counted). Null when
   * that is not the case or did not help.
   */
  private retryUrgentInReserve(batch: Pending[], err: unknown, firstPos: number): (Error | null)[] | null {
    if (!isDiskFull(err) || !batch.some((p) => isAlarmClass(p.event))) return null;
    if (!this.reserve.release()) return null;
    this.withdraw(firstPos); // the failed commit's rows, if SQLite kept them (its sync failed): not beside the retry's
    const outcome: (Error | null)[] = batch.map(() => null);
    try {
      this.inTransaction(() => {
        batch.forEach((p, i) => {
          outcome[i] = isAlarmClass(p.event) ? this.insertWithinCaps(p) : new DiskFullError(p.event.priority);
        });
      });
    } catch {
      return null;
    } finally {
      // Said once the freed room went to this batch: a listener's own event (gateway.disk_full) commits after it.
      this.emit('reserveReleased', { freeBytes: this.reserve.freeBytes(), reserveBytes: this.reserve.size });
    }
    // Refused like any event while the reserve is out: counted here, logged by the agent (storage-failures.ts).
    for (const p of batch.filter((_, i) => outcome[i] instanceof DiskFullError))
      this.ledger.countLost(p.event.priority, 1);
    return outcome;
  }

  /**
   * A commit that failed: its events are lost like shed ones, and counted with them (persisted with the next
   * commit that works), so the county learns how many seqs it will never see.
   */
  private failBatch(batch: Pending[], err: unknown, firstPos: number): void {
    const failure = new StorageError('commit', err);
    this.emit('storageFailure', { op: 'commit', error: failure, events: batch.length });
    for (const p of batch) this.ledger.countLost(p.event.priority, 1);
    this.withdraw(firstPos);
    for (const p of batch) p.reject(failure);
    this.announceShedding();
  }

  /** Rows a failed commit left in the tables (its log sync failed): never sent (wal-sync.ts). */
  private withdraw(fromPos: number): void {
    if (!this.queues.some((q) => q.maxPos() >= fromPos)) return; // SQLite rolled it back: nothing there
    try {
      this.inTransaction(() => withdrawRows(this.queues, fromPos), true, false);
    } catch (err) {
      this.emit('storageFailure', { op: 'delete', error: new StorageError('withdraw', err), events: 0 });
    }
  }

  /**
   * Runs `fn` in a transaction with the catalog and counters (deliveries' watermarks once due, or
   * `withDelivered`: late-watermarks.ts), then syncs the log unless `!durable`; on failure the in-memory
   * view is reloaded (from what SQLite holds, a commit whose sync failed included).
   */
  private inTransaction(fn: () => void, withDelivered = false, durable = true): void {
    try {
      crashPoints.beforeWrite();
      const delivered = withDelivered || this.late.due;
      this.db.transaction(() => {
        fn();
        for (const q of this.queues) q.persist(delivered);
        this.ledger.persist();
      })();
      // Committed in SQLite even if the sync below fails: the catch then reloads what it holds.
      this.ledger.committed();
      if (delivered) this.late.settled();
      if (durable) this.wal.sync();
      crashPoints.afterWrite();
    } catch (err) {
      const catalog = this.st.catalog.all() as CatalogRow[];
      for (const q of this.queues) q.load(catalog);
      this.ledger.reload();
      this.late.settled();
      throw err;
    }
  }

  private insertWithinCaps(p: Pending): Error | null {
    const bytes = Buffer.byteLength(p.body);
    if (!this.reserve.isHeld && !isAlarmClass(p.event)) {
      // The disk reserve went to alarms: nothing else takes room until it is written again.
      this.ledger.count(p.event.priority, 1, 'storage');
      return new DiskFullError(p.event.priority);
    }
    const refused = this.caps.makeRoom(p.event.priority, bytes);
    if (refused) return refused;
    const route = p.event.type === 'gateway.health' ? ROUTE.health : ROUTE.events;
    const rank = PRIORITY_RANK[p.event.priority];
    this.queues[rank]!.insert(this.nextPos++, p.event.seq, p.event.id, route, this.now(), bytes, p.body);
    return null;
  }

  /** Up to `limit` committed, undelivered rows after `cursor` in replay order. */
  readPage(cursor: Cursor | null, limit: number): OutboxRow[] {
    const rows: OutboxRow[] = [];
    for (let prio = cursor?.prio ?? 0; prio < PRIORITIES.length && rows.length < limit; prio++) {
      const after = cursor && prio === cursor.prio ? cursor.pos : 0;
      if (this.queues[prio]!.count > 0) rows.push(...this.queues[prio]!.page(after, limit - rows.length));
    }
    return rows;
  }

  waiting(prio: number): number {
    return this.queues[prio]?.count ?? 0;
  }

  /**
   * Removes acknowledged rows (as read by readPage): at once in memory, on disk with a later commit
   * (late-watermarks.ts; critical and high, and rows acknowledged out of order, now). Not synced:
   * an acknowledgement lost in a power cut only re-sends events the county already has, with the
   * same ids; the next synced commit makes it durable anyway.
   */
  delete(rows: readonly OutboxRow[]): number | null {
    if (rows.length === 0 || this.closed) return 0;
    const byPrio: OutboxRow[][] = PRIORITIES.map(() => []);
    for (const r of rows) byPrio[r.prio]!.push(r);
    let removed = 0;
    // Alarms and doors are rare, and a rollback must never bring a delivered alarm back as waiting.
    const now = rows.some((r) => r.prio <= PRIORITY_RANK.high);
    try {
      if (!now) this.late.moved(rows.length);
      this.inTransaction(
        () => {
          byPrio.forEach((list, prio) => {
            if (list.length > 0) removed += this.queues[prio]!.acknowledge(list);
          });
        },
        now,
        false,
      );
    } catch (err) {
      // The rows stay; the caller tries again later (or, after a restart, they go out again).
      this.emit('storageFailure', { op: 'delete', error: new StorageError('delete', err), events: rows.length });
      return null;
    }
    return removed;
  }

  /** Writes the watermarks deliveries moved, when no other commit took them along in time. */
  private writeWatermarks(): void {
    if (this.closed) return;
    try {
      this.inTransaction(() => {}, true, false);
    } catch (err) {
      this.emit('storageFailure', { op: 'delete', error: new StorageError('delete', err), events: 0 });
    }
  }

  /** Removes events older than their priority's age cap; counted as shed ('age'). */
  sweepAges(): number {
    if (!this.reserve.isHeld) this.reserve.restore();
    let removed = 0;
    try {
      this.inTransaction(() => {
        this.time.persist();
        removed = this.caps.shedByAge(this.now);
      });
    } catch (err) {
      this.emit('storageFailure', { op: 'sweep', error: new StorageError('sweep', err), events: 0 });
      return 0;
    }
    this.announceShedding();
    return removed;
  }

  private announceShedding(): void {
    for (const ev of this.ledger.drainNotices()) this.emit('shed', ev);
  }

  stats(): OutboxStats {
    return outboxStats(this.queues, this.caps.totalBytes(), this.ledger, this.reserve, this.pending.length, this.now());
  }

  get size(): number {
    return this.queues.reduce((a, q) => a + q.count, 0);
  }

  /** Commits what is pending, then closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    try {
      this.inTransaction(() => this.time.persist(), true);
    } catch (err) {
      this.emit('storageFailure', { op: 'commit', error: new StorageError('close', err), events: 0 });
    }
    this.wal.close();
    this.db.close();
  }
}
