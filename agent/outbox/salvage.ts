/**
 * Reads what can still be read from an outbox that failed its integrity check, so a few bad
 * pages do not strand a whole backlog (measured before: 50 flipped bytes in one page, 3,160
 * events never sent). Row by row in key order: when a read fails, the reader binary-searches
 * for the first key it can read again past the bad page, and counts the keys it skipped as
 * stranded (keys are dense, so the count is close: at most the rows a bad page held).
 *
 * Rows the old catalog says were delivered are left out; if the catalog itself is unreadable,
 * every row is taken (the county de-duplicates by id: a duplicate is harmless, a loss is not).
 */
import Database from 'better-sqlite3';
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { eventSchema, PRIORITY_RANK } from '../../core/contracts/event.js';
import { scanPages } from './page-scan.js';
import { ROUTE } from '../../core/contracts/outbox-store.js';

export interface SalvagedRow {
  prio: number;
  seq: number;
  id: string;
  route: number;
  createdMs: number;
  bytes: number;
  body: string;
}

export interface SalvageReport {
  recovered: number;
  /** Rows in unreadable pages, estimated from the keys skipped over them. */
  stranded: number;
  /** Whole tables that could not be read at all (their rows are not in `stranded`). */
  unreadableTables: string[];
  /** Tables whose end could not be read (a torn file): an unknown number of rows there is not in `stranded`. */
  unreadableTails: string[];
  catalogReadable: boolean;
  /** Of `recovered`, the rows read from leaf pages directly (the b-tree could not reach them). */
  fromPages: number;
  /** Zero bytes appended to a torn file, up to the size its header states (else SQLite refuses its schema). */
  paddedBytes: number;
}

const SEGMENT = /^q([0-3])_\d+$/;

export function salvageRows(file: string, each: (row: SalvagedRow) => void): SalvageReport {
  const report: SalvageReport = {
    recovered: 0,
    stranded: 0,
    unreadableTables: [],
    unreadableTails: [],
    catalogReadable: true,
    paddedBytes: 0,
    fromPages: 0,
  };
  report.paddedBytes = padTornFile(file);
  let catalog: CatalogEntry[] | null = null;
  const recoveredIds = new Set<string>();
  let db: Database.Database;
  try {
    // Not read-only: a WAL-mode file cannot be opened read-only without its -shm beside it.
    // Nothing is written to it; it stays where it was moved, for forensics.
    db = new Database(file, { fileMustExist: true });
  } catch {
    report.catalogReadable = false;
    return report;
  }
  try {
    const version = attempt(() => db.pragma('user_version', { simple: true }) as number) ?? 2;
    const key = version === 1 ? 'seq' : 'pos';
    let tables = attempt(() => db.prepare('SELECT name, prio, acked_through FROM segments').all() as CatalogEntry[]);
    catalog = version === 1 ? null : (tables ?? null); // schema-1 names are counters, not positions: no ranges
    if (!tables) {
      report.catalogReadable = false;
      const names =
        attempt(() => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) ??
        [];
      tables = names
        .filter((n) => SEGMENT.test(n.name))
        .map((n) => ({ name: n.name, prio: Number(SEGMENT.exec(n.name)![1]), acked_through: 0 }));
    }
    for (const t of tables) {
      if (!SEGMENT.test(t.name)) continue;
      const next = attempt(() =>
        db.prepare(
          `SELECT ${key} AS k, seq, id, route, created_ms, bytes, body FROM ${t.name} WHERE ${key} > ? ORDER BY ${key} LIMIT 1`,
        ),
      );
      if (!next) {
        report.unreadableTables.push(t.name);
        continue;
      }
      // The highest key bounds the search past a bad page; a torn file may not have it.
      const max =
        attempt(() => (db.prepare(`SELECT MAX(${key}) AS m FROM ${t.name}`).get() as { m: number | null }).m) ?? null;
      let after = t.acked_through;
      type Row = { k: number; seq: number; id: string; route: number; created_ms: number; bytes: number; body: string };
      for (;;) {
        let row = readAfter(next, after) as Row | null | undefined;
        if (row === null) break;
        if (row === undefined) {
          const resume = firstReadableAfter(next, after, max) as Row | null;
          if (!resume) {
            if (max !== null) report.stranded += max - after;
            else report.unreadableTails.push(t.name);
            break;
          }
          report.stranded += resume.k - after - 1;
          row = resume; // taken as found: reading again from just before it would touch the bad page
        }
        after = row.k;
        // SQLite does not notice damage inside a row's own bytes: check the event itself.
        if (!intact(row)) {
          report.stranded += 1;
          continue;
        }
        each({
          prio: t.prio,
          seq: row.seq,
          id: row.id,
          route: row.route,
          createdMs: row.created_ms,
          bytes: row.bytes,
          body: row.body,
        });
        recoveredIds.add(row.id);
        report.recovered += 1;
      }
    }
  } finally {
    db.close();
  }
  const damaged =
    report.stranded > 0 ||
    report.unreadableTables.length > 0 ||
    report.unreadableTails.length > 0 ||
    !report.catalogReadable;
  if (damaged) salvageFromPages(file, catalog, recoveredIds, report, each);
  return report;
}

/**
 * Rows the b-tree walk could not reach, read from the leaf pages themselves. A row counts
 * when it lies in a live segment's range above that segment's watermark (rows of dropped or
 * delivered ranges are stale copies); without a catalog, every row counts. Replay order of
 * these rows follows the pages, not their original order (the county orders by seq).
 */
function salvageFromPages(
  file: string,
  catalog: CatalogEntry[] | null,
  seen: Set<string>,
  report: SalvageReport,
  each: (row: SalvagedRow) => void,
): void {
  let found = 0;
  scanPages(file, ({ pos, event, body }) => {
    if (seen.has(event.id)) return;
    const prio = PRIORITY_RANK[event.priority];
    if (catalog && !liveIn(catalog, prio, pos)) return;
    seen.add(event.id);
    found += 1;
    each({
      prio,
      seq: event.seq,
      id: event.id,
      route: event.type === 'gateway.health' ? ROUTE.health : ROUTE.events,
      createdMs: Date.parse(event.ts) || 0,
      bytes: Buffer.byteLength(body),
      body,
    });
  });
  report.recovered += found;
  report.fromPages = found;
  report.stranded = Math.max(0, report.stranded - found);
}

interface CatalogEntry {
  name: string;
  prio: number;
  acked_through: number;
}

/** Whether `pos` of priority `prio` lies above the watermark of the segment whose range holds it. */
function liveIn(catalog: CatalogEntry[], prio: number, pos: number): boolean {
  const own = catalog
    .filter((c) => c.prio === prio)
    .map((c) => ({ first: Number(c.name.slice(c.name.lastIndexOf('_') + 1)), acked: c.acked_through }))
    .sort((a, b) => a.first - b.first);
  let holder: { first: number; acked: number } | undefined;
  for (const seg of own) if (seg.first <= pos) holder = seg;
  // Below every live segment: a dropped one, delivered.
  return holder !== undefined && pos > holder.acked;
}

/**
 * The first row past a bad page: the row read from the smallest x > from at which reading
 * works again. Without a known highest key, an upper bound is found by doubling first.
 */
function firstReadableAfter(next: Database.Statement, from: number, max: number | null): { k: number } | null {
  const readAt = (x: number) => readAfter(next, x);
  let hi = max;
  if (hi === null) {
    for (let step = 1; ; step *= 2) {
      if (from + step > Number.MAX_SAFE_INTEGER / 2) return null;
      if (readAt(from + step) !== undefined) {
        hi = from + step;
        break;
      }
    }
  }
  let lo = from + 1;
  let found: { k: number } | null = null;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = readAt(mid);
    if (row === undefined) lo = mid + 1;
    else {
      if (row) found = row;
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * A file cut short (a torn write, a full card) has tables whose root pages lie past its end,
 * and SQLite then refuses to load the schema at all. Zero pages up to the size the header
 * states make every intact page readable again (the zero pages read as damaged, as they are).
 */
function padTornFile(file: string): number {
  try {
    const fd = openSync(file, 'r+');
    try {
      const header = Buffer.alloc(100);
      if (readSync(fd, header, 0, 100, 0) < 100 || header.toString('latin1', 0, 15) !== 'SQLite format 3') return 0;
      const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
      const stated = header.readUInt32BE(28) * pageSize;
      const actual = fstatSync(fd).size;
      if (stated <= actual || stated > actual * 64) return 0;
      ftruncateSync(fd, stated);
      return stated - actual;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/** The stored body is a whole, valid event, and the row's own columns agree with it. */
function intact(row: { seq: number; id: string; bytes: number; body: string }): boolean {
  if (typeof row.body !== 'string' || Buffer.byteLength(row.body) !== row.bytes) return false;
  try {
    const parsed = eventSchema.safeParse(JSON.parse(row.body));
    return parsed.success && parsed.data.id === row.id && parsed.data.seq === row.seq;
  } catch {
    return false;
  }
}

/** The first row with key > x; undefined where the file is damaged (an error, or a row out of key order). */
function readAfter(next: Database.Statement, x: number): { k: number } | null | undefined {
  const row = attempt(() => next.get(x) as { k: number } | undefined);
  if (row && !(Number.isSafeInteger(row.k) && row.k > x)) return undefined;
  return row;
}

/** The value, or undefined when SQLite says the file is damaged there; `null` stands for "no row". */
function attempt<T>(fn: () => T): T | undefined | null {
  try {
    const v = fn();
    return v === undefined ? null : v;
  } catch {
    return undefined;
  }
}
