/** Pictures for the upload tests: the fixture JPEG grown with comment segments, and what a county saw arrive. */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CountySubscriber } from '../../scripts/county-subscriber.js';

const FIXTURE = readFileSync(new URL('../fixtures/gate-camera.jpg', import.meta.url));

/** A whole JPEG of about `bytes` (at least the fixture's 9 KB): COM segments of random bytes after the start marker. */
export function jpegOf(bytes: number): Buffer {
  const parts = [FIXTURE.subarray(0, 2)];
  let size = FIXTURE.length;
  while (size < bytes) {
    const body = Math.min(65_533, bytes - size);
    const len = Buffer.alloc(4);
    len.writeUInt16BE(0xfffe, 0);
    len.writeUInt16BE(body + 2, 2);
    parts.push(len, randomBytes(body));
    size += body + 4;
  }
  parts.push(FIXTURE.subarray(2));
  return Buffer.concat(parts);
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What arrived at the county, in order: `chunk <pictureId> <i>` and `event <type> <id>`. */
export function arrivalsAt(sub: CountySubscriber): string[] {
  const log: string[] = [];
  sub.on('chunk', (_gw, id, i) => log.push(`chunk ${id} ${i}`));
  sub.on('event', (e) => log.push(`event ${e.type} ${e.id}`));
  return log;
}

/** How many times each chunk index of a picture arrived. */
export function chunkCopies(log: readonly string[], pictureId: string): Map<number, number> {
  const copies = new Map<number, number>();
  for (const line of log) {
    const [kind, id, i] = line.split(' ');
    if (kind === 'chunk' && id === pictureId) copies.set(Number(i), (copies.get(Number(i)) ?? 0) + 1);
  }
  return copies;
}
