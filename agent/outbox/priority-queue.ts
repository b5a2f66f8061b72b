/**
 * The events of one priority, in insertion order (`pos`), as a run of segments (tables of up
 * to SEGMENT_ROWS rows). New events go into the last segment; delivery and shedding move
 * each segment's watermark; a segment with nothing live left (and no longer written to)
 * is dropped whole, which costs a fraction of deleting its rows one by one.
 * A segment is named after the first pos it holds, so names are never reused either.
 */
import type Database from 'better-sqlite3';
import { Segment } from './segment.js';
import type { OutboxRow } from '../../core/contracts/outbox-store.js';

export const SEGMENT_ROWS = 16_384;

export interface CatalogRow {
  name: string;
  prio: number;
  acked_through: number;
}

export class PriorityQueue {
  count = 0;
  bytes = 0;
  private segments: Segment[] = [];
  private readonly dirty = new Set<Segment>();
  /** Watermarks moved by deliveries: written when the outbox says (late-watermarks.ts), shedding's at once. */
  private readonly delivered = new Set<Segment>();
  private readonly updateCatalog;
  private readonly insertCatalog;
  private readonly deleteCatalog;

  constructor(
    private readonly db: Database.Database,
    readonly prio: number,
    catalog: CatalogRow[],
    /** Told of each dropped segment, so the highest seq and pos ever stored are never forgotten. */
    private readonly onDrop: (dropped: { maxSeq: number; lastPos: number }) => void,
    private readonly segmentRows = SEGMENT_ROWS,
  ) {
    this.updateCatalog = db.prepare('UPDATE segments SET acked_through = ? WHERE name = ?');
    this.insertCatalog = db.prepare('INSERT INTO segments (name, prio, acked_through) VALUES (?, ?, 0)');
    this.deleteCatalog = db.prepare('DELETE FROM segments WHERE name = ?');
    this.load(catalog);
  }

  /** (Re)builds the in-memory view from the catalog, e.g. after a rolled-back transaction. */
  load(catalog: CatalogRow[]): void {
    this.dirty.clear();
    this.delivered.clear();
    this.segments = catalog
      .filter((c) => c.prio === this.prio)
      .map((c) => new Segment(this.db, c.name, this.prio, c.acked_through))
      .sort((a, b) => segmentNumber(a.name) - segmentNumber(b.name));
    this.count = this.segments.reduce((a, s) => a + s.count, 0);
    this.bytes = this.segments.reduce((a, s) => a + s.bytes, 0);
  }

  /** `pos` comes from the outbox's counter: greater than any pos ever inserted. */
  insert(pos: number, seq: number, id: string, route: number, createdMs: number, bytes: number, body: string): void {
    let last = this.segments.at(-1);
    if (!last || last.rows >= this.segmentRows) {
      const name = `q${this.prio}_${String(pos).padStart(8, '0')}`;
      Segment.create(this.db, name);
      this.insertCatalog.run(name, this.prio);
      last = new Segment(this.db, name, this.prio, 0);
      this.segments.push(last);
    }
    last.insert(pos, seq, id, route, createdMs, bytes, body);
    this.count += 1;
    this.bytes += bytes;
  }

  /** Up to `limit` live rows with pos > afterPos. */
  page(afterPos: number, limit: number): OutboxRow[] {
    const rows: OutboxRow[] = [];
    for (const seg of this.segments) {
      if (rows.length >= limit) break;
      if (seg.count === 0 || seg.lastPos <= afterPos) continue;
      rows.push(...seg.page(afterPos, limit - rows.length));
    }
    return rows;
  }

  /** Sheds the oldest live rows while `more()` says so (and they are older than `olderThanMs`). Returns how many. */
  shedOldest(more: () => boolean, olderThanMs = Infinity): number {
    let shed = 0;
    for (const seg of this.segments) {
      while (seg.count > 0 && more()) {
        const victims = seg.oldest();
        if (victims.length === 0) break;
        for (const v of victims) {
          if (!more() || v.created_ms >= olderThanMs) return shed;
          seg.advanceTo(v.pos, v.bytes);
          this.dirty.add(seg);
          this.count -= 1;
          this.bytes -= v.bytes;
          shed += 1;
        }
      }
      if (!more()) break;
    }
    return shed;
  }

  acknowledge(rows: OutboxRow[]): number {
    const bySegment = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      const list = bySegment.get(r.segment);
      if (list) list.push(r);
      else bySegment.set(r.segment, [r]);
    }
    let removed = 0;
    for (const seg of this.segments) {
      const list = bySegment.get(seg.name);
      if (!list) continue;
      const done = seg.acknowledge(list);
      this.count -= done.count;
      this.bytes -= done.bytes;
      removed += done.count;
      this.delivered.add(seg);
    }
    return removed; // rows of segments already dropped were gone before
  }

  /**
   * Writes changed watermarks (those deliveries moved only `withDelivered`) and drops finished
   * segments; call inside the same transaction.
   */
  persist(withDelivered: boolean): void {
    if (withDelivered) {
      for (const seg of this.delivered) this.dirty.add(seg);
      this.delivered.clear();
    }
    for (const seg of this.dirty) this.updateCatalog.run(seg.ackedThrough, seg.name);
    for (const seg of this.dirty) this.delivered.delete(seg); // written with shedding's: up to date
    this.dirty.clear();
    const last = this.segments.at(-1);
    this.segments = this.segments.filter((seg) => {
      const finished = seg.count === 0 && (seg !== last || seg.rows >= this.segmentRows);
      if (finished) {
        this.delivered.delete(seg);
        this.db.exec(`DROP TABLE ${seg.name}`);
        this.deleteCatalog.run(seg.name);
        this.onDrop({ maxSeq: seg.maxSeq, lastPos: seg.lastPos });
      }
      return !finished;
    });
  }

  firstLiveCreatedMs(): number | null {
    for (const seg of this.segments) if (seg.count > 0) return seg.firstLiveCreatedMs();
    return null;
  }

  maxSeq(): number {
    return this.segments.reduce((m, s) => Math.max(m, s.maxSeq), 0);
  }

  maxPos(): number {
    return this.segments.reduce((m, s) => Math.max(m, s.lastPos), 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }
}

/** Segments sort by the number in their name (the first pos they hold; a plain counter in schema 1). */
function segmentNumber(name: string): number {
  return Number(name.slice(name.lastIndexOf('_') + 1));
}
