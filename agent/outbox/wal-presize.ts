/**
 * The outbox's write-ahead log written out to its working size, with zeros, when the store opens.
 *
 * SQLite deletes the log at every clean stop and starts a new one at the next open, which then
 * grows by a frame or more a commit until its first checkpoint (CHECKPOINT_PAGES frames, ~4 MB:
 * about 40 minutes at a modest village's rate). While the file grows, every synced commit also
 * journals its new size and blocks in ext4: measured on a loop-mounted ext4 image, ~31 KiB at the
 * card a commit while it grows against ~15 KiB once the log is written over in place (docs/
 * technician.md, _What a day costs the SD card_). Written out at the open, the log is written
 * over in place from its first commit, as it is after its first checkpoint anyway.
 *
 * Why the zeros are never read as data: SQLite reads a log's frames only up to the first whose
 * salt or checksum does not match its header, which zeros never do (the same way the stale frames
 * of an earlier cycle are ignored once a log is reused), and a log whose own header is zeros is an
 * empty log. Salvage (page-scan.ts) reads only table-leaf pages, and a zero page is none.
 * Zeros are written, not fallocate()d: ext4 marks fallocated blocks unwritten and converts them,
 * through its journal, at their first write, which is the cost this avoids.
 *
 * Never at the cost of room: only when at least as much as it takes stays free after it (and the
 * alarms' reserve: disk-reserve.ts), and a failed write (ENOSPC, EIO) gives the zeros back; the
 * log then grows as it did before.
 */
import { closeSync, fdatasyncSync, ftruncateSync, fstatSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { walCheckpointPages, type DiskReserve } from './disk-reserve.js';

const CHUNK = 64 * 1024;
/** SQLite's log: a 32-byte header, then frames of a 24-byte header and a page. */
const WAL_HEADER = 32;
const FRAME_HEADER = 24;
/** Frames a commit may add past the checkpoint threshold before the checkpoint runs. */
const SPARE_FRAMES = 24;

/** The log's size at its checkpoint threshold, in bytes. */
export function walWorkingBytes(checkpointPages: number, pageSize: number): number {
  return WAL_HEADER + (checkpointPages + SPARE_FRAMES) * (FRAME_HEADER + pageSize);
}

/** The file-system edge; a test replaces the write with one that fails as a full card does. */
export interface PresizeFs {
  writeZeros(fd: number, from: number, to: number): void;
}

const realPresizeFs: PresizeFs = {
  writeZeros(fd, from, to) {
    const zeros = Buffer.alloc(CHUNK);
    for (let at = from; at < to; at += CHUNK) writeSync(fd, zeros, 0, Math.min(CHUNK, to - at), at);
  },
};

export type PresizeOutcome = 'written' | 'already' | 'no-room' | 'failed';

/**
 * Writes the log at `walPath` out to `bytes` with zeros, synced, if there is room: `freeBytes`
 * on its file system, of which `keepFree` must stay free besides as much as the zeros take.
 * Best effort: never throws (a store that opened is usable without it).
 */
export function presizeWal(
  walPath: string,
  bytes: number,
  room: { freeBytes: number; keepFree: number },
  fs: PresizeFs = realPresizeFs,
): PresizeOutcome {
  let fd: number;
  try {
    fd = openSync(walPath, 'r+');
  } catch {
    return 'failed'; // no log (yet): nothing to write out
  }
  try {
    const size = fstatSync(fd).size;
    if (size >= bytes) return 'already';
    const adding = bytes - size;
    if (room.freeBytes < 2 * adding + room.keepFree) return 'no-room';
    try {
      fs.writeZeros(fd, size, bytes);
      fdatasyncSync(fd);
      return 'written';
    } catch {
      try {
        ftruncateSync(fd, size); // the room back; SQLite has written nothing past `size` meanwhile
      } catch {
        // a card failing under us: the log is still valid up to its frames
      }
      return 'failed';
    }
  } catch {
    return 'failed';
  } finally {
    closeSync(fd);
  }
}

/** The outbox's own log (`<dir>/outbox.db-wal`), once its reserve for alarms is in place. */
export function presizeOutboxLog(
  dir: string,
  pageSize: number,
  reserve: Pick<DiskReserve, 'freeBytes' | 'size'>,
): PresizeOutcome {
  return presizeWal(join(dir, 'outbox.db-wal'), walWorkingBytes(walCheckpointPages(true), pageSize), {
    freeBytes: reserve.freeBytes(),
    keepFree: reserve.size,
  });
}
