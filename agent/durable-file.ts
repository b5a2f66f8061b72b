/** Small files that must survive a power cut: write a temp file, fsync, rename, fsync the folder. */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crashPoints } from './crash-points.js';

export function writeFileDurably(path: string, data: string): void {
  crashPoints.beforeWrite();
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  crashPoints.afterWrite();
}

/**
 * The same off the event loop (a picture, the upload state: an SD card's fsync takes tens of ms,
 * and a panic press must not wait for it). `tmp` is where it is written first; on a throw it may
 * be left behind (the caller removes it).
 */
export async function writeFileDurablyAsync(path: string, data: string | Buffer, tmp = `${path}.tmp`): Promise<void> {
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  await dir.sync().finally(() => dir.close());
}

/** A file name stamped with the time, safe on any file system: `<file>.<tag>-2026-11-27T12-00-00-000Z`. */
export function stampedName(file: string, tag: string, now: () => number): string {
  return `${file}.${tag}-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * Moves a damaged file aside (kept for a technician, never silently overwritten). Returns where, or null if it
 * could not.
 */
export function keepAside(file: string, now: () => number): string | null {
  const to = stampedName(file, 'bad', now);
  try {
    renameSync(file, to);
    return to;
  } catch {
    return null;
  }
}
