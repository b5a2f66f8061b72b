/**
 * One segment of a priority queue: a table of events in seq order plus a persisted
 * watermark `ackedThrough`. Rows at or below the watermark are gone (delivered or shed)
 * even though they still sit in the table; the whole table is dropped once every row is
 * gone. Acknowledging is then one small catalog update instead of a delete per row, which
 * rewrote every page a second time (half the queue's write wear on an SD card).
 */
import type Database from 'better-sqlite3';

export interface StoredRow {
  seq: number;
  /** The seq of the live row before this one when it was read (or the watermark): nothing lies between. */
  prevSeq: number;
  prio: number;
  /** The segment table it was read from. */
  segment: string;
  /** Which topic it goes to (see ROUTE); an integer, because reading a type string per row costs. */
  route: number;
  bytes: number;
  body: string;
}

const DELETE_CHUNK = 256;

/** Topic routes stored per row. */
export const ROUTE = { events: 0, health: 1 } as const;

export class Segment {
  /** Live rows (above the watermark, not deleted). */
  count = 0;
  bytes = 0;
  /** Rows ever inserted (live or not): a segment is full at SEGMENT_ROWS. */
  rows = 0;
  lastSeq = 0;
  /** The first seq ever inserted here: no row of this segment lies below it. */
  firstSeq = Infinity;
  ackedThrough: number;
  private readonly st;
  private readonly deleteIn = new Map<number, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    readonly name: string,
    readonly prio: number,
    ackedThrough: number,
  ) {
    this.ackedThrough = ackedThrough;
    this.st = {
      insert: db.prepare(`INSERT INTO ${name} (seq, id, route, created_ms, bytes, body) VALUES (?, ?, ?, ?, ?, ?)`),
      // Raw arrays: about a third cheaper than letting the driver build an object per row.
      page: db.prepare(`SELECT seq, route, bytes, body FROM ${name} WHERE seq > ? ORDER BY seq LIMIT ?`).raw(true),
      oldest: db.prepare(`SELECT seq, bytes, created_ms FROM ${name} WHERE seq > ? ORDER BY seq LIMIT 256`),
      live: db.prepare(`SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes FROM ${name} WHERE seq > ?`),
      all: db.prepare(`SELECT COUNT(*) AS rows, COALESCE(MAX(seq), 0) AS lastSeq, MIN(seq) AS firstSeq FROM ${name}`),
      firstLive: db.prepare(`SELECT created_ms FROM ${name} WHERE seq > ? ORDER BY seq LIMIT 1`),
    };
    this.recount();
  }

  static create(db: Database.Database, name: string): void {
    db.exec(`CREATE TABLE ${name} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, route INTEGER NOT NULL, created_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, body TEXT NOT NULL)`);
  }

  recount(): void {
    const live = this.st.live.get(this.ackedThrough) as { count: number; bytes: number };
    const all = this.st.all.get() as { rows: number; lastSeq: number; firstSeq: number | null };
    this.firstSeq = all.firstSeq ?? Infinity;
    this.count = live.count;
    this.bytes = live.bytes;
    this.rows = all.rows;
    this.lastSeq = all.lastSeq;
  }

  insert(seq: number, id: string, route: number, createdMs: number, bytes: number, body: string): void {
    this.st.insert.run(seq, id, route, createdMs, bytes, body);
    this.count += 1;
    this.bytes += bytes;
    this.rows += 1;
    this.lastSeq = seq;
    if (seq < this.firstSeq) this.firstSeq = seq;
  }

  /** Live rows after `afterSeq`, in order, each knowing its predecessor. */
  page(afterSeq: number, limit: number): StoredRow[] {
    const from = Math.max(afterSeq, this.ackedThrough);
    const raw = this.st.page.all(from, limit) as [number, number, number, string][];
    // Reading from below this segment's first row (a cursor in an earlier segment): nothing
    // of this segment precedes the first row but the watermark.
    let prev = from < this.firstSeq ? this.ackedThrough : from;
    const rows: StoredRow[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const [seq, route, bytes, body] = raw[i]!;
      rows[i] = { seq, prevSeq: prev, prio: this.prio, segment: this.name, route, bytes, body };
      prev = seq;
    }
    return rows;
  }

  /** The oldest live rows (for shedding and age caps). */
  oldest(): { seq: number; bytes: number; created_ms: number }[] {
    return this.st.oldest.all(this.ackedThrough) as { seq: number; bytes: number; created_ms: number }[];
  }

  firstLiveCreatedMs(): number | null {
    return (this.st.firstLive.get(this.ackedThrough) as { created_ms: number } | undefined)?.created_ms ?? null;
  }

  /** Moves the watermark over the oldest live row `seq` (nothing live lies below it). */
  advanceTo(seq: number, bytes: number): void {
    this.ackedThrough = seq;
    this.count -= 1;
    this.bytes -= bytes;
  }

  /**
   * Removes acknowledged rows: those that follow the watermark move it (no write but the
   * catalog's); any other (acknowledged out of order: rare) is deleted for real.
   * Returns how many rows and bytes were removed; rows already gone are not counted.
   */
  acknowledge(rows: StoredRow[]): { count: number; bytes: number } {
    rows.sort((a, b) => a.seq - b.seq);
    let removed = 0;
    let removedBytes = 0;
    const strays: StoredRow[] = [];
    for (const r of rows) {
      if (r.seq <= this.ackedThrough) continue; // shed meanwhile
      if (r.prevSeq <= this.ackedThrough) {
        this.advanceTo(r.seq, r.bytes);
        removed += 1;
        removedBytes += r.bytes;
      } else strays.push(r);
    }
    for (let i = 0; i < strays.length; i += DELETE_CHUNK) {
      const chunk = strays.slice(i, i + DELETE_CHUNK).filter((r) => r.seq > this.ackedThrough);
      if (chunk.length === 0) continue;
      let st = this.deleteIn.get(chunk.length);
      if (!st) {
        st = this.db.prepare(`DELETE FROM ${this.name} WHERE seq IN (${Array(chunk.length).fill('?').join(',')}) RETURNING bytes`);
        this.deleteIn.set(chunk.length, st);
      }
      for (const r of st.all(...chunk.map((c) => c.seq)) as { bytes: number }[]) {
        this.count -= 1;
        this.bytes -= r.bytes;
        removed += 1;
        removedBytes += r.bytes;
      }
    }
    return { count: removed, bytes: removedBytes };
  }
}
