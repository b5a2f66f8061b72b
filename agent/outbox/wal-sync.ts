/**
 * The outbox's commits made durable with fdatasync() of the write-ahead log, instead of
 * SQLite's own fsync(). better-sqlite3 bundles SQLite built without HAVE_FDATASYNC, so with
 * `synchronous = FULL` every commit is an fsync(), and fsync() also commits the log's inode
 * times to ext4's journal: ~14 KiB of journal per commit on top of the frame's 8 KiB at the
 * card (docs/technician.md, _What a day costs the SD card_). The connection therefore runs
 * `synchronous = NORMAL` (in WAL mode SQLite then syncs nothing at a commit; it still syncs
 * the log before a checkpoint copies it into the database, the database after, and the log's
 * header when it restarts the log), and the outbox calls sync() after each commit that must be
 * durable, before anything is told the commit happened.
 *
 * Why this is as durable as SQLite's own fsync for every committed transaction:
 * - fdatasync() works on the inode, not the descriptor: it writes back every page SQLite
 *   wrote through its own descriptor (frames, and on a restart the new header), then flushes
 *   the device cache. Only metadata not needed to read the data back is left out (the times:
 *   ext4 writes those with its periodic journal commit, every 5 s, not once per commit;
 *   measured 22.4 -> 15.5 KiB a commit at the card for commits 3 s apart).
 * - The log growing past its old size, or truncated to journal_size_limit by the first
 *   commit after a restart: the size is needed to read the data, so fdatasync() journals it.
 * - A restart (the log written from the start again after a full checkpoint): SQLite syncs
 *   the new header itself (`syncHeader`, checkpoint flags, kept under NORMAL), and the new
 *   salts make the old frames invalid, so a torn restart loses nothing committed.
 * - A checkpoint: SQLite's own syncs remain (log before backfill, database after).
 * - The log replaced: SQLite opens `<db>-wal` once per connection (at its first read in WAL
 *   mode) and writes through that descriptor until the connection closes (only closing it or
 *   leaving WAL mode closes the log: sqlite3WalClose). It deletes the file only when the last
 *   connection closes, and a connection in WAL mode holds a shared lock on the database all
 *   along, so a CLI's look at the outbox cannot make ours the last one. The outbox's next
 *   connection (after a reload) gets a new log and a new WalSync (pager_unlock keeps the lock
 *   in WAL mode). So the descriptor is opened once, at the open's sync, and kept: should the path name another file later (the folder
 *   deleted under the agent, as the storage-lost test does), SQLite still writes the file it
 *   opened, which is ours too; following the path would sync a file SQLite never writes.
 * - Several connections: only this one writes the outbox; its deletes after PUBACK commit
 *   unsynced on purpose (late-watermarks.ts) and become durable with the next synced commit.
 * - A failing fdatasync() (EIO, ENOSPC from a thin device): thrown, so the commit fails as an
 *   SQLite I/O error does today (the outbox's failed-commit path). Linux may mark the pages
 *   clean after reporting the error once, so a later sync succeeding proves nothing about
 *   these frames: the failed commit's events are treated as not stored.
 */
import { closeSync, fdatasyncSync, fstatSync, openSync } from 'node:fs';
import type { PriorityQueue } from './priority-queue.js';

/** The file-system edge, replaceable by a test (the fault edge: a sync that fails like a card). */
export interface WalSyncFs {
  open(path: string): number;
  datasync(fd: number): void;
  close(fd: number): void;
  fdIno(fd: number): number;
}

export const realWalFs: WalSyncFs = {
  open: (path) => openSync(path, 'r'),
  datasync: (fd) => fdatasyncSync(fd),
  close: (fd) => closeSync(fd),
  fdIno: (fd) => fstatSync(fd).ino,
};

export class WalSync {
  private fd: number | null = null;
  private readonly walPath: string;
  /** Syncs made so far (a test reads it to see the commit path really syncs). */
  syncs = 0;

  constructor(
    /** The database file; its log is `<db>-wal`. */
    dbPath: string,
    private readonly fs: WalSyncFs = realWalFs,
  ) {
    this.walPath = `${dbPath}-wal`;
  }

  /**
   * Makes every commit so far durable. Call after a commit, before it counts as done; throws
   * the file system's error if the log could not be written to the card.
   */
  sync(): void {
    // Opened at the first commit: SQLite has had its log open since the connection's first read.
    this.fd ??= this.fs.open(this.walPath);
    this.fs.datasync(this.fd);
    this.syncs += 1;
  }

  /** The inode synced (null before the first commit): a test compares it with SQLite's log. */
  get inode(): number | null {
    return this.fd === null ? null : this.fs.fdIno(this.fd);
  }

  close(): void {
    if (this.fd !== null) this.fs.close(this.fd);
    this.fd = null;
  }
}

/**
 * The rows at or above `fromPos` after a commit that failed: if SQLite committed them but the
 * log's sync failed, they sit in the tables though nothing vouches for them on the card, and
 * their events were already counted lost. They are acknowledged like deliveries (call inside a
 * transaction that writes the watermarks), so they never go out after that count. The
 * withdrawal is a write: on a card that refuses writes altogether it fails too (reported as a
 * failed delete), and the rows stay readable until a restart, so the uplink may still send
 * them (test/faults/storage-wal-sync.test.ts). Returns how many there were.
 */
export function withdrawRows(queues: readonly PriorityQueue[], fromPos: number): number {
  let withdrawn = 0;
  for (const q of queues) {
    const rows = q.page(fromPos - 1, Number.MAX_SAFE_INTEGER);
    if (rows.length > 0) withdrawn += q.acknowledge(rows);
  }
  return withdrawn;
}
