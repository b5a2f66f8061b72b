/** Counts shed events per priority, persisted with the transaction that shed them. */
import type Database from 'better-sqlite3';
import { PRIORITIES, type Priority } from '../../core/contracts/event.js';

/** full: no room within the caps; age: past its age cap; storage: the write itself failed (disk full, read-only). */
export type ShedReason = 'full' | 'age' | 'storage';

export class ShedLedger {
  private counts: Record<Priority, number>;
  private dirty = new Set<Priority>();
  private notices = new Map<string, { priority: Priority; count: number; reason: ShedReason }>();
  /**
   * Losses counted outside a transaction (writes that failed): a rollback must not undo them,
   * so they are kept apart until a commit has persisted them.
   */
  private carried: Partial<Record<Priority, number>> = {};
  private readonly upsert;

  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
    );
    this.counts = this.load();
  }

  private load(): Record<Priority, number> {
    const counts = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
    for (const r of this.db.prepare("SELECT name, value FROM counters WHERE name LIKE 'shed.%'").all() as {
      name: string;
      value: number;
    }[]) {
      const p = r.name.slice('shed.'.length) as Priority;
      if (p in counts) counts[p] = r.value;
    }
    return counts;
  }

  count(priority: Priority, n: number, reason: ShedReason): void {
    this.counts[priority] += n;
    this.dirty.add(priority);
    this.addNotice(priority, n, reason);
  }

  private addNotice(priority: Priority, n: number, reason: ShedReason): void {
    const key = `${priority}/${reason}`;
    const notice = this.notices.get(key) ?? { priority, count: 0, reason };
    notice.count += n;
    this.notices.set(key, notice);
  }

  /** Events lost because their write failed; persisted with the next transaction that commits. */
  countLost(priority: Priority, n: number): void {
    this.carried[priority] = (this.carried[priority] ?? 0) + n;
    this.addNotice(priority, n, 'storage');
  }

  /** Call inside the transaction that shed. */
  persist(): void {
    for (const p of new Set([...this.dirty, ...(Object.keys(this.carried) as Priority[])]))
      this.upsert.run(`shed.${p}`, this.counts[p] + (this.carried[p] ?? 0));
    this.dirty.clear();
  }

  /** Call once the transaction that persisted has committed. */
  committed(): void {
    for (const [p, n] of Object.entries(this.carried) as [Priority, number][]) this.counts[p] += n;
    this.carried = {};
  }

  /** After a rollback. */
  reload(): void {
    this.counts = this.load();
    this.dirty.clear();
    this.notices.clear();
  }

  drainNotices() {
    const out = [...this.notices.values()];
    this.notices.clear();
    return out;
  }

  totals(): Record<Priority, number> {
    const t = { ...this.counts };
    for (const [p, n] of Object.entries(this.carried) as [Priority, number][]) t[p] += n;
    return t;
  }
}
