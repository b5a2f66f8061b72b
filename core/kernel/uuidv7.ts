/**
 * UUIDv7 (RFC 9562): 48-bit ms timestamp, then a 12-bit counter so ids made in the same
 * millisecond still sort in creation order. If the wall clock steps back we keep using the
 * last timestamp: ids stay time-ordered for this process even when the clock is wrong.
 */
import { randomFillSync } from 'node:crypto';

let lastMs = 0;
// Random bytes drawn in bulk: one getrandom call per 256 ids instead of one per id.
const pool = Buffer.alloc(16 * 256);
let poolOffset = pool.length;
let counter = 0;

export function uuidv7(nowMs: number = Date.now()): string {
  let ms = Math.max(Math.floor(nowMs), lastMs);
  if (ms === lastMs) {
    counter += 1;
    if (counter > 0xfff) {
      ms += 1; // counter exhausted: borrow the next millisecond rather than lose order
      counter = 0;
    }
  } else {
    counter = 0;
  }
  lastMs = ms;
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
