/** Small files that must survive a power cut: write a temp file, fsync, rename, fsync the folder. */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
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
