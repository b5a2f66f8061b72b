/**
 * A release bundle over MQTT (docs/county.md, "Releases"): the gateway PULLS it, one piece at a
 * time, so it paces itself on its own link and resumes where it stood. It asks on
 * `<prefix>/update/request` for `len` bytes of one file of one release from offset `o`; the
 * county's update server (scripts/county/update-server.ts) answers on `<prefix>/update/chunk`
 * with one JSON header line, a newline, then the raw bytes (as a picture chunk: no base64, a
 * split at the first newline reads it in any language). An answer it cannot give carries
 * `error` instead of bytes. Shared by both ends so they cannot drift apart.
 */
import { z } from 'zod';
import { GatewayError } from '../kernel/errors.js';
import { checkRelPath } from './release-manifest.js';

export const UPDATE_REQUEST_SUBTOPIC = 'update/request';
export const UPDATE_CHUNK_SUBTOPIC = 'update/chunk';

export const UPDATE_CHUNK_LIMITS = Object.freeze({
  /** What a request may ask for at once (the gateway asks for 16 KiB: ~1.3 s on a 100 kbit/s downlink). */
  maxLen: 64 * 1024,
  maxHeaderBytes: 1024,
  /** No file of a release is this large (the largest, Node itself, is ~120 MB). */
  maxFileBytes: 1024 ** 3,
});

const version = z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/, { error: 'must be a release version' });
const relPath = z
  .string()
  .max(4096)
  .superRefine((p, ctx) => {
    const why = checkRelPath(p);
    if (why) ctx.addIssue({ code: 'custom', message: `path ${JSON.stringify(p.slice(0, 200))}: ${why}` });
  });
const offset = z.number().int().min(0).max(UPDATE_CHUNK_LIMITS.maxFileBytes);

export const updateRequestSchema = z.strictObject({
  v: z.literal(1),
  version,
  path: relPath.describe('manifest.json, manifest.sig, or a path the manifest names'),
  o: offset.describe('The byte offset asked for'),
  len: z.number().int().min(1).max(UPDATE_CHUNK_LIMITS.maxLen).describe('Bytes asked for (fewer come at the end)'),
});
export type UpdateRequest = z.infer<typeof updateRequestSchema>;

/** What the update server may refuse with (the gateway names it in update.refused / the reply). */
export const updateServeErrors = ['BAD_REQUEST', 'BAD_PATH', 'UNKNOWN_VERSION', 'NOT_IN_BUNDLE', 'BAD_OFFSET'] as const;

export const updateChunkHeaderSchema = z.strictObject({
  v: z.literal(1),
  version: z.string().max(64),
  path: z.string().max(4096),
  o: offset,
  /** The whole file's bytes (absent in an error answer). */
  size: offset.optional(),
  /** The whole file's sha256: for manifest.json and manifest.sig, which no manifest names. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  error: z.strictObject({ code: z.enum(updateServeErrors), message: z.string().max(500) }).optional(),
});
export type UpdateChunkHeader = z.infer<typeof updateChunkHeaderSchema>;

export interface UpdateChunk {
  header: UpdateChunkHeader;
  data: Buffer;
}

const unreadable = (why: string) => new GatewayError('CHUNK_UNREADABLE', `update chunk: ${why}`);

export function encodeUpdateChunk(header: UpdateChunkHeader, data: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]);
}

/** Reads an answer; throws CHUNK_UNREADABLE with the reason when it is not one (bounded work on any input). */
export function decodeUpdateChunk(payload: Buffer): UpdateChunk {
  const nl = payload.indexOf(0x0a);
  if (nl < 0 || nl > UPDATE_CHUNK_LIMITS.maxHeaderBytes)
    throw unreadable(`no header line within ${UPDATE_CHUNK_LIMITS.maxHeaderBytes} bytes`);
  const data = payload.subarray(nl + 1);
  if (data.length > UPDATE_CHUNK_LIMITS.maxLen)
    throw unreadable(`${data.length} bytes, over ${UPDATE_CHUNK_LIMITS.maxLen}`);
  let json: unknown;
  try {
    json = JSON.parse(payload.subarray(0, nl).toString('utf8'));
  } catch (err) {
    throw unreadable(`header is not JSON: ${(err as Error).message}`);
  }
  const parsed = updateChunkHeaderSchema.safeParse(json);
  if (!parsed.success)
    throw unreadable(
      `header: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'} ${i.message}`)
        .join('; ')}`,
    );
  const h = parsed.data;
  if (h.error === undefined && h.size === undefined) throw unreadable('header: neither size nor error');
  if (h.size !== undefined && h.o + data.length > h.size)
    throw unreadable(`bytes ${h.o}..${h.o + data.length} run past the file's ${h.size}`);
  return { header: h, data: Buffer.from(data) };
}
