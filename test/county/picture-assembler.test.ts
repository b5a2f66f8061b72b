/**
 * Pictures on the wire, the county's side: chunks (core/contracts/media-chunk.ts) put back
 * together in any order and any number of copies, handed over once, whole and with the hash
 * chunk 0 promised; a tampered, misplaced or hostile chunk refused with its reason, never a
 * throw; and a stranger's flood of partial pictures held within bounds.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chunkHeaderLine,
  chunksOf,
  decodeChunk,
  encodeChunk,
  MEDIA_LIMITS,
  type ChunkHeader,
  type PictureInfo,
} from '../../core/contracts/media-chunk.js';
import { PictureAssembler } from '../../scripts/county/picture-assembler.js';

const JPEG = readFileSync(new URL('../fixtures/gate-camera.jpg', import.meta.url));
const ID = '01938a6e-7c2b-7000-8000-0123456789ab';
const info = (bytes: Buffer): PictureInfo => ({
  size: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  type: 'image/jpeg',
  cameraId: 'gate-cam',
  eventId: '01938a6e-7c2a-7000-8000-0123456789ab',
  takenAt: '2026-12-05T23:41:07.000Z',
});
const idOf = (n: number) => `01938a6e-7c2b-7000-8000-${n.toString(16).padStart(12, '0')}`;

describe('pictures put together at the county', () => {
  it('in any order, with duplicates: one whole picture, its hash checked, handed over once', () => {
    const chunks = chunksOf(ID, JPEG, info(JPEG), 1024);
    expect(chunks).toHaveLength(Math.ceil(JPEG.length / 1024));
    const a = new PictureAssembler();
    const order = [...chunks.keys()].reverse().flatMap((i) => [i, i]); // last first, each twice
    const outcomes = order.map((i) => a.receive(chunks[i]!));
    const pictures = outcomes.filter((o) => o.kind === 'picture');
    expect(pictures).toHaveLength(1);
    expect(pictures[0]!.picture).toMatchObject({ id: ID, cameraId: 'gate-cam', size: JPEG.length });
    expect(pictures[0]!.picture.bytes.equals(JPEG)).toBe(true);
    expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(chunks.length);
    expect(a.receive(chunks[0]!)).toEqual({ kind: 'duplicate', id: ID }); // late: still not a new picture
    expect(a.inProgress).toBe(0);
  });

  it('refuses a picture whose bytes were changed on the way, or whose chunks do not fit together', () => {
    const tampered = chunksOf(ID, JPEG, info(JPEG), 4096);
    const changed = tampered[1]!;
    const at = changed.indexOf(0x0a) + 10;
    changed[at] = changed[at]! ^ 0xff;
    const a = new PictureAssembler();
    const last = tampered.map((c) => a.receive(c)).at(-1)!;
    expect(last).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/^sha256 [0-9a-f]{64}, the picture says/),
    });

    const shifted = chunksOf(ID, JPEG, info(JPEG), 4096);
    shifted[1] = encodeChunk({ v: 1, id: ID, i: 1, n: shifted.length, o: 4000 }, JPEG.subarray(4096, 8192));
    const b = new PictureAssembler();
    expect(shifted.map((c) => b.receive(c)).at(-1)).toMatchObject({
      kind: 'refused',
      reason: 'chunk at offset 4000, expected 4096',
    });
    const c = new PictureAssembler();
    c.receive(chunksOf(ID, JPEG, info(JPEG), 4096)[0]!);
    expect(c.receive(encodeChunk({ v: 1, id: ID, i: 1, n: 7, o: 4096 }, JPEG.subarray(0, 10)))).toMatchObject({
      kind: 'refused',
      reason: 'chunk says 7 chunks, the picture 3',
    });
  });

  it('refuses hostile chunks with a reason and never throws, whatever the bytes', () => {
    const a = new PictureAssembler();
    const reasons = [
      Buffer.alloc(2 * 1024 * 1024, 0x41), // no newline at all
      Buffer.from('{"v":1\n'),
      Buffer.from('not json\nxx'),
      // A count past MEDIA_LIMITS.maxChunks, on purpose (the type would not allow it).
      encodeChunk({ v: 1, id: ID, i: 0, n: 1e9, o: 0 } as unknown as ChunkHeader, Buffer.from('x')),
      encodeChunk({ v: 1, id: ID, i: 3, n: 2, o: 0 }, Buffer.from('x')),
      encodeChunk({ v: 1, id: ID, i: 1, n: 2, o: -5 }, Buffer.from('x')),
      encodeChunk({ v: 1, id: ID, i: 1, n: 2, o: 0 }, Buffer.alloc(MEDIA_LIMITS.maxChunkBytes + 1)),
      encodeChunk({ v: 1, id: '../../etc/passwd', i: 1, n: 2, o: 0 }, Buffer.from('x')),
      encodeChunk({ ...info(JPEG), v: 1, id: ID, i: 0, n: 1, o: 0, size: 3 }, JPEG),
    ].map((p) => a.receive(p));
    expect(reasons.every((r) => r.kind === 'refused')).toBe(true);
    expect(reasons.map((r) => (r.kind === 'refused' ? r.reason : '')).filter((r) => r.length < 8)).toEqual([]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        expect(() => a.receive(Buffer.from(bytes))).not.toThrow();
      }),
    );
    expect(() => decodeChunk(Buffer.from('{"v":1,"id":"x"}\n'))).toThrow(/without data/);
  });

  it("a stranger's flood of half pictures stays within bounds: the one touched longest ago goes first", () => {
    const a = new PictureAssembler();
    for (let k = 0; k < 200; k++)
      a.receive(encodeChunk({ v: 1, id: idOf(k), i: 1, n: 2, o: 60_000 }, Buffer.alloc(60_000, k)));
    expect(a.inProgress).toBe(64);
    expect(a.dropped).toBe(136);
    // The picture still being sent gets through: its chunks keep it fresh.
    const real = chunksOf(idOf(999), JPEG, info(JPEG), 4096);
    const outcomes = real.map((c, i) => {
      for (let k = 0; k < 40; k++)
        a.receive(encodeChunk({ v: 1, id: idOf(1000 + i * 40 + k), i: 1, n: 2, o: 60_000 }, Buffer.alloc(1000)));
      return a.receive(c);
    });
    expect(outcomes.at(-1)).toMatchObject({ kind: 'picture' });
  });

  it('the header schema a county is given (media-chunk-v1.schema.json) takes every header we write and refuses what decodeChunk refuses', () => {
    const headers = chunksOf(ID, JPEG, info(JPEG), 1024).map((c) =>
      JSON.parse(c.subarray(0, c.indexOf(0x0a)).toString()),
    );
    expect(headers.length).toBeGreaterThan(2);
    for (const h of headers) expect(chunkHeaderLine.safeParse(h).success).toBe(true);
    const [first, second] = headers as [Record<string, unknown>, Record<string, unknown>];
    const { sha256: _dropped, ...firstWithoutHash } = first;
    const bad = [firstWithoutHash, { ...second, sha256: first.sha256 }, { ...second, i: -1 }, { ...first, v: 2 }];
    for (const h of bad) {
      expect(chunkHeaderLine.safeParse(h).success).toBe(false);
      const payload = Buffer.concat([Buffer.from(`${JSON.stringify(h)}\n`), Buffer.from([0xff])]);
      expect(() => decodeChunk(payload)).toThrow();
    }
  });
});
