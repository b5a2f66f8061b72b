/**
 * The rows of one priority, in seq order, with every statement the outbox needs on them.
 * Seqs only grow within a table (events are committed in creation order), so two rows read
 * next to each other have nothing between them, now or later: the basis of range deletes.
 */
import type Database from 'better-sqlite3';

export interface StoredRow {
  seq: number;
  /** The seq of the row before this one in the table when it was read (0: none). */
  prevSeq: number;
  prio: number;
  type: string;
  bytes: number;
  /** The event's JSON, exactly as it goes on the wire. */
  body: string;
}

const DELETE_CHUNK = 256;

export class PriorityTable {
  private readonly insertSt;
  private readonly oldestSt;
  private readonly deleteSeqSt;
  private readonly deleteRangeSt;
  private readonly pageSt;
  private readonly agedSt;
  private readonly firstSt;
  private readonly maxSt;
  private readonly sumSt;
  private readonly deleteIn = new Map<number, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    readonly name: string,
    readonly prio: number,
  ) {
    this.insertSt = db.prepare(`INSERT INTO ${name} (seq, id, type, created_ms, bytes, body) VALUES (?, ?, ?, ?, ?, ?)`);
    this.oldestSt = db.prepare(`SELECT seq, bytes FROM ${name} ORDER BY seq LIMIT 256`);
    this.deleteSeqSt = db.prepare(`DELETE FROM ${name} WHERE seq = ?`);
    this.deleteRangeSt = db.prepare(`DELETE FROM ${name} WHERE seq BETWEEN ? AND ?`);
    this.pageSt = db.prepare(`SELECT seq, type, bytes, body FROM ${name} WHERE seq > ? ORDER BY seq LIMIT ?`);
    this.agedSt = db.prepare(`DELETE FROM ${name} WHERE seq IN (SELECT seq FROM ${name} WHERE created_ms < ?) RETURNING bytes`);
    this.firstSt = db.prepare(`SELECT created_ms FROM ${name} ORDER BY seq LIMIT 1`);
    this.maxSt = db.prepare(`SELECT MAX(seq) AS s FROM ${name}`);
    this.sumSt = db.prepare(`SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes FROM ${name}`);
  }

  insert(seq: number, id: string, type: string, createdMs: number, bytes: number, body: string): void {
    this.insertSt.run(seq, id, type, createdMs, bytes, body);
  }

  /** Up to `limit` rows after `afterSeq`, each knowing its predecessor. */
  page(afterSeq: number, limit: number): StoredRow[] {
    const rows = this.pageSt.all(afterSeq, limit) as StoredRow[];
    let prev = afterSeq;
    for (const r of rows) {
      r.prio = this.prio;
      r.prevSeq = prev;
      prev = r.seq;
    }
    return rows;
  }

  oldest(): { seq: number; bytes: number }[] {
    return this.oldestSt.all() as { seq: number; bytes: number }[];
  }

  deleteSeq(seq: number): number {
    return this.deleteSeqSt.run(seq).changes;
  }

  /**
   * Deletes exactly these rows. Runs of rows that were read next to each other go as one
   * range; the rest as IN lists. Returns how many rows were removed.
   */
  deleteRows(rows: StoredRow[]): number {
    rows.sort((a, b) => a.seq - b.seq);
    let removed = 0;
    const singles: number[] = [];
    for (let i = 0; i < rows.length; ) {
      let j = i;
      while (j + 1 < rows.length && rows[j + 1]!.prevSeq === rows[j]!.seq) j++;
      if (j > i) removed += this.deleteRangeSt.run(rows[i]!.seq, rows[j]!.seq).changes;
      else singles.push(rows[i]!.seq);
      i = j + 1;
    }
    for (let i = 0; i < singles.length; i += DELETE_CHUNK) {
      const chunk = singles.slice(i, i + DELETE_CHUNK);
      let st = this.deleteIn.get(chunk.length);
      if (!st) {
        st = this.db.prepare(`DELETE FROM ${this.name} WHERE seq IN (${Array(chunk.length).fill('?').join(',')})`);
        this.deleteIn.set(chunk.length, st);
      }
      removed += st.run(...chunk).changes;
    }
    return removed;
  }

  deleteOlderThan(createdMs: number): { bytes: number }[] {
    return this.agedSt.all(createdMs) as { bytes: number }[];
  }

  firstCreatedMs(): number | null {
    return (this.firstSt.get() as { created_ms: number } | undefined)?.created_ms ?? null;
  }

  maxSeq(): number {
    return (this.maxSt.get() as { s: number | null }).s ?? 0;
  }

  totals(): { count: number; bytes: number } {
    return this.sumSt.get() as { count: number; bytes: number };
  }
}
