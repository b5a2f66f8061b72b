/**
 * The county's side of pictures (core/contracts/media-chunk.ts): puts a picture together from
 * its chunks, whatever order and however many times they come, and hands it over only whole
 * and with the hash chunk 0 promised. Bounded against a stranger on the broker: at most
 * MAX_PARTIAL pictures and MAX_HELD_BYTES in the making (the one touched longest ago is dropped
 * first), and a chunk that disagrees with what the picture already said is refused.
 */
import { createHash } from 'node:crypto';
import { decodeChunk, type PictureInfo } from '../../core/contracts/media-chunk.js';

const MAX_PARTIAL = 64;
const MAX_HELD_BYTES = 64 * 1024 ** 2;
/** Pictures already put together, remembered so that a late duplicate chunk is not a new picture. */
const DONE_KEPT = 1000;

export interface AssembledPicture extends PictureInfo {
  id: string;
  bytes: Buffer;
}

interface Partial {
  n: number;
  info: PictureInfo | null;
  chunks: Map<number, { o: number; data: Buffer }>;
  held: number;
}

export type ChunkOutcome =
  | { kind: 'picture'; picture: AssembledPicture }
  | { kind: 'partial'; id: string; have: number; of: number }
  | { kind: 'duplicate'; id: string }
  | { kind: 'refused'; id: string | null; reason: string };

export class PictureAssembler {
  /** Insertion order is touch order: the first is the one touched longest ago. */
  private readonly partial = new Map<string, Partial>();
  private readonly done = new Set<string>();
  private held = 0;
  /** Pictures dropped unfinished to stay within the bounds. */
  dropped = 0;

  /** Takes one chunk message's payload. Never throws: a bad chunk is an outcome. */
  receive(payload: Buffer): ChunkOutcome {
    let chunk;
    try {
      chunk = decodeChunk(payload);
    } catch (err) {
      return { kind: 'refused', id: null, reason: (err as Error).message };
    }
    const { header: h, data } = chunk;
    if (this.done.has(h.id)) return { kind: 'duplicate', id: h.id };
    const p = this.partial.get(h.id) ?? { n: h.n, info: null, chunks: new Map(), held: 0 };
    if (p.n !== h.n) return { kind: 'refused', id: h.id, reason: `chunk says ${h.n} chunks, the picture ${p.n}` };
    if (p.chunks.has(h.i)) return { kind: 'duplicate', id: h.id };
    if ('size' in h)
      p.info = {
        size: h.size,
        sha256: h.sha256,
        type: h.type,
        cameraId: h.cameraId,
        eventId: h.eventId,
        takenAt: h.takenAt,
      };
    p.chunks.set(h.i, { o: h.o, data });
    p.held += data.length;
    this.held += data.length;
    this.partial.delete(h.id);
    this.partial.set(h.id, p);
    this.trim(h.id);
    if (!this.partial.has(h.id))
      return { kind: 'refused', id: h.id, reason: 'dropped: over the bounds for pictures in the making' };
    if (p.chunks.size < p.n || !p.info) return { kind: 'partial', id: h.id, have: p.chunks.size, of: p.n };
    return this.finish(h.id, p, p.info);
  }

  /** Pictures in the making now. */
  get inProgress(): number {
    return this.partial.size;
  }

  private finish(id: string, p: Partial, info: PictureInfo): ChunkOutcome {
    this.forget(id, p);
    this.done.add(id);
    if (this.done.size > DONE_KEPT) this.done.delete(this.done.values().next().value!);
    const parts = [...p.chunks.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    let at = 0;
    for (const c of parts) {
      if (c.o !== at) return { kind: 'refused', id, reason: `chunk at offset ${c.o}, expected ${at}` };
      at += c.data.length;
    }
    if (at !== info.size) return { kind: 'refused', id, reason: `${at} bytes, the picture says ${info.size}` };
    const bytes = Buffer.concat(parts.map((c) => c.data));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== info.sha256)
      return { kind: 'refused', id, reason: `sha256 ${sha256}, the picture says ${info.sha256}` };
    return { kind: 'picture', picture: { id, ...info, bytes } };
  }

  /** Drops the pictures touched longest ago (never `keep` unless it alone is over the bounds). */
  private trim(keep: string): void {
    for (const [id, p] of this.partial) {
      if (this.partial.size <= MAX_PARTIAL && this.held <= MAX_HELD_BYTES) return;
      if (id === keep && this.partial.size > 1) continue;
      this.forget(id, p);
      this.dropped += 1;
    }
  }

  private forget(id: string, p: Partial): void {
    this.partial.delete(id);
    this.held -= p.held;
  }
}
