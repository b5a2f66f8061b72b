/** Counts shed events per priority, persisted with the transaction that shed them. */
import type Database from 'better-sqlite3';
import { PRIORITIES, type Priority } from '../contracts/event.js';

export type ShedReason = 'full' | 'age';

export class ShedLedger {
  private counts: Record<Priority, number>;
  private dirty = new Set<Priority>();
  private notices = new Map<string, { priority: Priority; count: number; reason: ShedReason }>();
  private readonly upsert;

  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
    this.counts = this.load();
  }

  private load(): Record<Priority, number> {
    const counts = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
    for (const r of this.db.prepare("SELECT name, value FROM counters WHERE name LIKE 'shed.%'").all() as { name: string; value: number }[]) {
      const p = r.name.slice('shed.'.length) as Priority;
      if (p in counts) counts[p] = r.value;
    }
    return counts;
  }

  count(priority: Priority, n: number, reason: ShedReason): void {
    this.counts[priority] += n;
    this.dirty.add(priority);
    const key = `${priority}/${reason}`;
    const notice = this.notices.get(key) ?? { priority, count: 0, reason };
    notice.count += n;
    this.notices.set(key, notice);
  }

  /** Call inside the transaction that shed. */
  persist(): void {
    for (const p of this.dirty) this.upsert.run(`shed.${p}`, this.counts[p]);
    this.dirty.clear();
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
    return { ...this.counts };
  }
}
