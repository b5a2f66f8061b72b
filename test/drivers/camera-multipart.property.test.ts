/**
 * The multipart parser under any chunking and any garbage (fast-check): the parts a camera
 * framed correctly come out the same however the bytes are cut, and whatever is mixed in,
 * the parser never holds more than a part's cap plus a header block.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultipartParser } from '../../drivers/camera/multipart-parser.js';
import { eventPart, heartbeatPart } from '../../scripts/simulators/camera-framing.js';

const LIMITS = { maxPartBytes: 2048, maxHeaderBytes: 256 };

function run(chunks: Buffer[]): { parts: string[]; maxHeld: number } {
  const parts: string[] = [];
  const p = new MultipartParser(
    'myboundary',
    LIMITS,
    (x) => parts.push(x.body.toString()),
    () => undefined,
  );
  let maxHeld = 0;
  for (const c of chunks) {
    p.push(c);
    maxHeld = Math.max(maxHeld, p.buffered);
  }
  return { parts, maxHeld };
}

/** Cuts `bytes` at the given points. */
const cut = (bytes: Buffer, points: number[]) => {
  const at = [...new Set(points.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const x of [...at, bytes.length]) {
    if (x > prev) out.push(bytes.subarray(prev, x));
    prev = Math.max(prev, x);
  }
  return out;
};

const goodPart = fc.oneof(
  fc.constant(heartbeatPart('dahua')),
  fc
    .record({
      code: fc.constantFrom('VideoMotion', 'AlarmLocal'),
      channel: fc.nat(8),
      region: fc.stringMatching(/^[A-Za-z0-9]{0,12}$/),
    })
    .map((e) => eventPart('dahua', { ...e, state: 'Start' })),
);

describe('multipart parser properties', () => {
  it('the same parts whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(goodPart, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (parts, points) => {
          const bytes = Buffer.from(parts.join('') + heartbeatPart('dahua')); // a last part releases the one before
          const whole = run([bytes]).parts;
          expect(whole).toHaveLength(parts.length + 1);
          expect(run(cut(bytes, points)).parts).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bounded whatever is mixed in: garbage, huge and endless parts', () => {
    const hostile = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
      fc.nat(10_000_000).map((n) => Buffer.from(`--myboundary\r\nContent-Length: ${n}\r\n\r\n${'z'.repeat(3000)}`)),
      fc.constant(Buffer.from(`--myboundary\r\n${'H: v\r\n'.repeat(100)}`)),
      fc.constant(Buffer.from(`--myboundary${'\r\n'.repeat(3000)}`)),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            goodPart.map((s) => Buffer.from(s)),
            hostile,
          ),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(), { maxLength: 30 }),
        (pieces, points) => {
          const { maxHeld } = run(cut(Buffer.concat(pieces), points));
          // After each chunk is parsed: at most a part's cap, a header block and a boundary.
          expect(maxHeld).toBeLessThanOrEqual(LIMITS.maxPartBytes + LIMITS.maxHeaderBytes + 64);
        },
      ),
      { numRuns: 200 },
    );
  });
});
