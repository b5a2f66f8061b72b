/**
 * A picture on the wire (docs/county.md, "Pictures"): cut into chunks, one MQTT message each on
 * `<prefix>/media/<pictureId>`, so that an alarm pressed mid-upload overtakes the picture after
 * at most one chunk, and a cut link resumes from the last chunk the broker acknowledged.
 *
 * A chunk is one line of JSON (its header), a newline, then the chunk's raw bytes: no base64
 * (a third more airtime on a weak link), and any language reads it with a split at the first
 * newline. Every header names the picture, the chunk's index, the count and the byte offset;
 * chunk 0's header also says what the whole picture is (size, sha256, type, the camera, the
 * event it belongs to, when it was taken), so the county can check the picture it put together.
 * Chunks may arrive twice or out of order (QoS 1, a resend after a cut): the county keeps the
 * first copy of each index.
 */
import { z } from 'zod';
import { GatewayError } from '../kernel/errors.js';
import { nameSchema } from './envelope.js';

const unreadable = (why: string) => new GatewayError('CHUNK_UNREADABLE', why);

/** What a county decoder accepts for a picture (a stranger on the broker cannot make it hold more). */
export const MEDIA_LIMITS = Object.freeze({
  maxChunkBytes: 64 * 1024,
  maxChunks: 4096,
  maxPictureBytes: 16 * 1024 ** 2,
  maxHeaderBytes: 1024,
});

export const MEDIA_SUBTOPIC = 'media';

const pictureId = z.string().regex(/^[0-9a-f-]{36}$/, { error: 'must be a picture id (a UUID)' });

const chunkHeader = z.strictObject({
  v: z.literal(1),
  id: pictureId.describe("The picture's id (the one its event names in data.picture.id)"),
  i: z.number().int().min(0).describe("The chunk's index, from 0"),
  n: z.number().int().min(1).max(MEDIA_LIMITS.maxChunks).describe('How many chunks the picture has'),
  o: z.number().int().min(0).describe("The chunk's byte offset in the picture"),
});

const pictureInfo = z.strictObject({
  size: z.number().int().min(1).max(MEDIA_LIMITS.maxPictureBytes).describe("The picture's bytes"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits' }),
  type: z.literal('image/jpeg'),
  cameraId: nameSchema.describe('The camera (its device id in the config)'),
  eventId: z.string().nullable().describe('The event the picture belongs to (null: taken on a request)'),
  takenAt: z.string().describe("When the gateway took it (ISO 8601, the gateway's clock)"),
});

export const firstChunkHeader = chunkHeader.extend(pictureInfo.shape);

/**
 * A chunk's header line as the county's schema states it (config/schemas/media-chunk-v1.schema.json):
 * chunk 0 with what the picture is, every later one without. decodeChunk checks the same rules.
 */
export const chunkHeaderLine = z.union([
  firstChunkHeader.extend({ i: z.literal(0).describe("Chunk 0 carries the whole picture's size, sha256 and origin") }),
  chunkHeader.extend({ i: z.number().int().min(1).describe("The chunk's index (1 and up)") }),
]);

export type ChunkHeader = z.infer<typeof chunkHeader>;
export type PictureInfo = z.infer<typeof pictureInfo>;
export type FirstChunkHeader = z.infer<typeof firstChunkHeader>;

export interface MediaChunk {
  header: ChunkHeader | FirstChunkHeader;
  data: Buffer;
}

/** One chunk's message payload. */
export function encodeChunk(header: ChunkHeader | FirstChunkHeader, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]);
}

/** Reads one chunk's payload; throws with the reason when it is not one (bounded work on any input). */
export function decodeChunk(payload: Buffer): MediaChunk {
  const nl = payload.indexOf(0x0a, 0);
  if (nl < 0 || nl > MEDIA_LIMITS.maxHeaderBytes)
    throw unreadable(`no header line within ${MEDIA_LIMITS.maxHeaderBytes} bytes`);
  const data = payload.subarray(nl + 1);
  if (data.length === 0) throw unreadable('a chunk without data');
  if (data.length > MEDIA_LIMITS.maxChunkBytes)
    throw unreadable(`chunk of ${data.length} bytes, over ${MEDIA_LIMITS.maxChunkBytes}`);
  let json: unknown;
  try {
    json = JSON.parse(payload.subarray(0, nl).toString('utf8'));
  } catch (err) {
    throw unreadable(`header is not JSON: ${(err as Error).message}`);
  }
  const first = (json as { i?: unknown } | null)?.i === 0;
  const parsed = (first ? firstChunkHeader : chunkHeader).safeParse(json);
  if (!parsed.success)
    throw unreadable(
      `header: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
    );
  const h = parsed.data;
  if (h.i >= h.n) throw unreadable(`chunk index ${h.i} of ${h.n}`);
  if (h.o + data.length > MEDIA_LIMITS.maxPictureBytes) throw unreadable('chunk past the largest picture');
  const size = (h as Partial<FirstChunkHeader>).size;
  if (size !== undefined && h.o + data.length > size) throw unreadable(`chunk 0 runs past the picture's ${size} bytes`);
  return { header: h, data: Buffer.from(data) };
}

/** The chunks of a picture, `chunkBytes` each (the last shorter), chunk 0 carrying `info`. */
export function chunksOf(id: string, picture: Buffer, info: PictureInfo, chunkBytes: number): Buffer[] {
  const n = Math.max(1, Math.ceil(picture.length / chunkBytes));
  return Array.from({ length: n }, (_, i) => {
    const o = i * chunkBytes;
    const header = { v: 1 as const, id, i, n, o, ...(i === 0 ? info : {}) };
    return encodeChunk(header, picture.subarray(o, o + chunkBytes));
  });
}
