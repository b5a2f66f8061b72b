/**
 * Room for alarms when the card fills up. A byte cap inside the outbox (`maxBytes`) cannot
 * help when the file system itself is full (logs, another program, a small card): then every
 * commit fails alike, alarms included. So the outbox keeps real blocks on disk, a file of
 * zeros written and fsynced (`reserve.bin`), and lets it go the moment an alarm-class commit
 * fails for lack of space (alarm-class.ts); the commit is then tried again for the alarm-class
 * events alone. While the reserve is released, only alarm-class events commit, whatever their
 * priority, so telemetry cannot eat the room it freed. It is written again once the disk has
 * twice its size free (the margin: after writing it, as much is still free for everything
 * else), and only then do other events commit again.
 *
 * SQLite needs room of its own for a commit: its write-ahead log grows by a page or more per
 * commit until a checkpoint (every 1,000 pages, 4 MB, normally) copies it into the database
 * and the log is reused from its start. After a restart the log starts empty, so on a full
 * card it could not grow to the next checkpoint: while the reserve is released the outbox
 * checkpoints every RELEASED_CHECKPOINT_PAGES pages instead, and the log stays within them.
 */
import { closeSync, fsyncSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { foreignCode } from '../../core/kernel/errors.js';

const CHUNK = 64 * 1024;
const FREE_CACHE_MS = 500;
/** Never more than this share of the file system: a small card must still hold events. */
const MAX_SHARE = 0.1;
/** SQLite's checkpoint interval in pages, normally and while the reserve is released (see above). */
const CHECKPOINT_PAGES = 1000;
const RELEASED_CHECKPOINT_PAGES = 16;

export const walCheckpointPages = (held: boolean): number => (held ? CHECKPOINT_PAGES : RELEASED_CHECKPOINT_PAGES);

export function isDiskFull(err: unknown): boolean {
  const code = foreignCode(err) ?? '';
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code.startsWith('SQLITE_IOERR_WRITE');
}

export class DiskReserve {
  readonly file: string;
  private readonly dir: string;
  /** Bytes the reserve holds (or will hold) on this file system. */
  readonly size: number;
  private held = false;
  private freeAt = -Infinity;
  private free = Infinity;
  releases = 0;

  constructor(
    dir: string,
    wanted: number,
    private readonly monoMs: () => number,
    /** Told whether the reserve is held, at start and at every change (the outbox tunes its checkpoints). */
    private readonly onHeldChange: (held: boolean) => void = () => {},
  ) {
    this.dir = dir;
    this.file = join(dir, 'reserve.bin');
    let fsBytes = Infinity;
    try {
      const fs = statfsSync(dir);
      fsBytes = fs.blocks * fs.bsize;
    } catch {
      // unknown size: keep the wanted size
    }
    this.size = Math.max(0, Math.floor(Math.min(wanted, fsBytes * MAX_SHARE)));
    try {
      this.held = statSync(this.file).size >= this.size;
    } catch {
      this.held = false;
    }
    if (!this.held) this.restore();
    this.onHeldChange(this.held);
  }

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Free bytes on the file system (cached briefly while the reserve is held: asked once per
   * commit). Not cached while it is out: everything but alarms waits for the room to return.
   */
  freeBytes(): number {
    const now = this.monoMs();
    if (this.held && now - this.freeAt < FREE_CACHE_MS) return this.free;
    this.freeAt = now;
    try {
      const fs = statfsSync(this.dir);
      this.free = fs.bavail * fs.bsize;
    } catch {
      this.free = 0;
    }
    return this.free;
  }

  /** Lets the reserve go, so an urgent commit finds room. Returns whether there was one to let go. */
  release(): boolean {
    if (!this.held) return false;
    try {
      rmSync(this.file, { force: true });
    } catch {
      return false;
    }
    this.held = false;
    this.releases += 1;
    this.freeAt = -Infinity;
    this.onHeldChange(false);
    return true;
  }

  /** Writes the reserve again once the disk has twice its size free; false while it cannot. */
  restore(): boolean {
    if (this.held) return true;
    if (this.size === 0) return (this.held = true); // no reserve: nothing to wait for
    if (this.freeBytes() < 2 * this.size) return false;
    let fd: number | null = null;
    try {
      fd = openSync(this.file, 'w');
      const zeros = Buffer.alloc(CHUNK);
      for (let done = 0; done < this.size; done += CHUNK) writeSync(fd, zeros, 0, Math.min(CHUNK, this.size - done));
      fsyncSync(fd);
      this.held = true;
    } catch {
      this.held = false;
    } finally {
      try {
        if (fd !== null) closeSync(fd);
        if (!this.held) rmSync(this.file, { force: true });
      } catch {
        // a card failing under us: the next attempt tries again; never an exception into a commit
      }
    }
    this.freeAt = -Infinity;
    if (this.held) this.onHeldChange(true);
    return this.held;
  }
}
