/** A small card for the storage fault tests: a tmpfs (as root) and a way to fill it to the last byte. */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Mounts a tmpfs of `size` (e.g. '3m') at a new folder in `parent`; the cleanup unmounts it. */
export function mountSmallCard(parent: string, size: string, cleanup: (fn: () => void) => void): string {
  const dir = join(parent, 'card');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  cleanup(() => execFileSync('umount', ['-l', dir]));
  return dir;
}

/** Fills the file system with one file until it refuses a byte more; returns the file. */
export function fillCard(dir: string, name = 'filler.bin'): string {
  const file = join(dir, name);
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}
