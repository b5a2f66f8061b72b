/**
 * Room for alarms when the card fills up. A byte cap inside the outbox (`maxBytes`) cannot
 * help when the file system itself is full (logs, another program, a small card): then every
 * commit fails alike, alarms included. So the outbox keeps real blocks on disk, a file of
 * zeros written and fsynced (`reserve.bin`), and lets it go the moment an urgent commit fails
 * for lack of space; the commit is then tried again for the urgent events alone. While the
 * reserve is released, events below `high` are refused unless the disk has room for the
 * reserve again, so telemetry cannot eat the room it freed. Once the disk has twice that room,
 * the reserve is written again.
 */
import { closeSync, fsyncSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { foreignCode } from '../kernel/errors.js';

const CHUNK = 64 * 1024;
const FREE_CACHE_MS = 500;
/** Never more than this share of the file system: a small card must still hold events. */
const MAX_SHARE = 0.1;

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
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Free bytes on the file system (cached briefly: asked once per commit). */
  freeBytes(): number {
    const now = this.monoMs();
    if (now - this.freeAt < FREE_CACHE_MS) return this.free;
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
    return true;
  }

  /** While released: whether a non-urgent event may take room (the disk can hold the reserve again). */
  roomForNonUrgent(): boolean {
    return this.held || this.freeBytes() >= this.size;
  }

  /** Writes the reserve again once the disk has twice its size free; false while it cannot. */
  restore(): boolean {
    if (this.held) return true;
    if (this.size === 0) return (this.held = true);
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
    return this.held;
  }
}
