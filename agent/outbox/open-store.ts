/**
 * Opens the outbox database. A corrupt or torn file is moved aside (kept for recovery)
 * and a fresh store starts: the agent must never crash-loop on its own store.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { SalvageReport } from './salvage.js';
import { stampedName } from '../durable-file.js';
import { WalSync, realWalFs, type WalSyncFs } from './wal-sync.js';
import { GatewayError, errorMessage, foreignCode } from '../../core/kernel/errors.js';

/** 2: segment rows keyed by insertion position (`pos`), seq a plain column (see segment.ts). */
export const SCHEMA_VERSION = 2;

export interface Recovery {
  reason: string;
  movedTo: string;
  /** Filled in once the readable rows of the moved-aside file are back in the fresh store. */
  salvage?: SalvageReport;
  /** Why the salvage stopped part-way (it is tried again at the next open). */
  salvageError?: string;
}

export interface OpenedStore {
  db: Database.Database;
  recovered: Recovery | null;
  /** Makes a commit durable (wal-sync.ts): call it after every commit that must survive a power cut. */
  wal: WalSync;
}

const CORRUPTION_CODES = /^SQLITE_(CORRUPT|NOTADB|IOERR_SHORT_READ|CANTOPEN_ISDIR)/;

export function openStore(
  dir: string,
  fileName = 'outbox.db',
  now: () => number = Date.now,
  walFs: WalSyncFs = realWalFs,
): OpenedStore {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  const opened = (db: Database.Database, recovered: Recovery | null): OpenedStore => {
    const wal = new WalSync(path, walFs);
    try {
      wal.sync(); // the schema's own commit (a new or migrated store), before anything is stored in it
    } catch (err) {
      wal.close();
      db.close();
      throw err;
    }
    return { db, recovered, wal };
  };
  try {
    return opened(openAndCheck(path), null);
  } catch (err) {
    const code = foreignCode(err) ?? '';
    if (!(err instanceof CorruptStoreError) && !CORRUPTION_CODES.test(code)) throw err;
    const movedTo = stampedName(path, 'corrupt', now);
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
    }
    const reason = err instanceof CorruptStoreError ? err.message : `${code}: ${errorMessage(err)}`;
    return opened(openAndCheck(path), { reason, movedTo });
  }
}

/** The file opened but failed its integrity check. */
class CorruptStoreError extends GatewayError {
  constructor(message: string) {
    super('OUTBOX_CORRUPT', message);
  }
}

function openAndCheck(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL: SQLite syncs no commit itself; the outbox makes each that must be durable so
    // with fdatasync of the log before it counts as done (wal-sync.ts: no journal commit of
    // the log's times at the card, -35 % of the bytes a commit). Checkpoints sync as before.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // better-sqlite3 builds SQLite with a 16 MB page cache; the outbox appends at one end and
    // reads from the other, so a small cache serves as well and keeps the agent small (measured:
    // the start-up check alone grew RSS by 17 MB with the default; 2 MB -> 512 KB took 2.5 MB off
    // the peak while a 1M backlog drains, drain and grouped ingest as fast within the noise).
    db.pragma('cache_size = -512');
    db.pragma('journal_size_limit = 67108864');
    // Small WAL, reused in place: a WAL that keeps growing makes every fsync also flush the
    // file size (measured: 4,000 pages cost ~25% of critical ingest, 20,000 pages ~40%).
    db.pragma('wal_autocheckpoint = 1000');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new CorruptStoreError(`quick_check: ${String(check)}`);
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version !== 0 && version !== 1) throw new CorruptStoreError(`unknown outbox schema version ${version}`);
  db.transaction(() => {
    if (version === 1) migrateFrom1(db);
    // Events live in segment tables (see priority-queue.ts), listed in this catalog.
    db.exec(`
      CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY, prio INTEGER NOT NULL, acked_through INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  })();
}

/**
 * Schema 1 keyed segment rows and watermarks by seq. Its seqs become the positions (same
 * order, same watermarks) and seq is kept as a column. Its table names (a counter per
 * priority) sort below every new one, which is named after its first position, always
 * above every schema-1 seq. Rows a schema-1 watermark already passed stay passed: which of
 * them were really delivered cannot be known any more.
 */
function migrateFrom1(db: Database.Database): void {
  const segments = db.prepare('SELECT name FROM segments').all() as { name: string }[];
  for (const { name } of segments) {
    db.exec(
      `ALTER TABLE ${name} RENAME COLUMN seq TO pos; ALTER TABLE ${name} ADD COLUMN seq INTEGER NOT NULL DEFAULT 0; UPDATE ${name} SET seq = pos;`,
    );
  }
  db.exec(
    "INSERT INTO counters (name, value) SELECT 'pos.floor', value FROM counters WHERE name = 'seq.floor' ON CONFLICT(name) DO NOTHING",
  );
}
