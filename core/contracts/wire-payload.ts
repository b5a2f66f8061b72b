/**
 * How compact batches travel (docs/county.md, "MQTT contract"): on `<prefix>/events/batch`, one header
 * byte naming the compression, then the v2 batch's JSON text, compressed by it. The same bytes
 * on MQTT 3.1.1 and 5; on MQTT 5 the content type says it again. `<prefix>/events` keeps
 * today's JSON (one envelope, or a v1 batch), so a county subscriber that never asked for the
 * batch topic never receives bytes it cannot read.
 *
 * Compression is node:zlib (no native add-on): raw deflate (RFC 1951, no zlib or gzip wrapper:
 * six bytes a message saved) or brotli at quality 4 (quality 11, brotli's default, costs ~20x
 * the CPU for a few per cent here). Decoding is bounded by `WIRE_LIMITS` (wire-limits.ts): the
 * compressed payload's size, the JSON it expands to (zlib's maxOutputLength stops a zip bomb while
 * inflating, not after), its nesting (counted before parsing) and its event count; every failure
 * is a BATCH_UNREADABLE error that names what was wrong.
 *
 * `deflate-dict1` (header 0x03) is raw deflate with a preset dictionary (wire-dictionary.ts): a
 * new name rather than a changed `deflate`, so a county that reads 0x01 today keeps reading
 * every gateway whose config does not opt in.
 */
import { GatewayError, errorMessage } from '../kernel/errors.js';
import { zlib } from '../kernel/lazy-builtins.js';
import { wireDictionary } from './wire-dictionary.js';
import type { GatewayEvent } from './event.js';
import { compactBatch, expandCompactBatch } from './wire-format.js';
import { checkEventCount, parseBoundedJson, withDefaults, type DecodeLimits } from './wire-limits.js';

export type { DecodeLimits } from './wire-limits.js';

export const COMPRESSIONS = ['none', 'deflate', 'brotli', 'deflate-dict1'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** The first byte of a batch-topic payload. */
export const HEADER_BYTE: Record<Compression, number> = {
  none: 0x00,
  deflate: 0x01,
  brotli: 0x02,
  'deflate-dict1': 0x03,
};
const BY_HEADER = new Map<number, Compression>(COMPRESSIONS.map((c) => [HEADER_BYTE[c], c]));

/** The level below `<prefix>/events` where compact batches go. */
export const BATCH_SUBTOPIC = 'batch';

/** The MQTT 5 content type of a batch-topic message (the header byte says the same to 3.1.1 clients). */
export const batchContentType = (c: Compression): string => `application/vnd.village.batch.v2; compression=${c}`;

/** Encodes stored envelope bodies as one batch-topic payload. */
export function encodeBatchPayload(gatewayId: string, bodies: readonly string[], compression: Compression): Buffer {
  const json = Buffer.from(JSON.stringify(compactBatch(gatewayId, bodies)));
  if (compression === 'none') return withHeader(json, compression);
  const { brotliCompressSync, constants, deflateRawSync } = zlib();
  const body =
    compression === 'deflate'
      ? deflateRawSync(json, { level: 6 })
      : compression === 'deflate-dict1'
        ? deflateRawSync(json, { level: 6, dictionary: wireDictionary(compression) })
        : compression === 'brotli'
          ? brotliCompressSync(json, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 4,
                [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
                [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
              },
            })
          : json;
  return withHeader(body, compression);
}

function withHeader(body: Buffer, compression: Compression): Buffer {
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = HEADER_BYTE[compression];
  body.copy(out, 1);
  return out;
}

/** Events a parsed batch says it carries, counted before anything is expanded. */
export function compactEventCount(value: unknown): number {
  const v = value as { groups?: unknown; raw?: unknown } | null;
  if (!v || typeof v !== 'object') return 0;
  let n = Array.isArray(v.raw) ? v.raw.length : 0;
  if (Array.isArray(v.groups))
    for (const g of v.groups as { events?: unknown }[]) if (g && Array.isArray(g.events)) n += g.events.length;
  return n;
}

const unreadable = (message: string, cause?: unknown) =>
  new GatewayError('BATCH_UNREADABLE', message, cause === undefined ? undefined : { cause });

/** The envelopes of a batch-topic payload; a BATCH_UNREADABLE error for anything it cannot read. */
export function decodeBatchPayload(payload: Uint8Array, limits: DecodeLimits = {}): GatewayEvent[] {
  const { maxMessageBytes, maxJsonBytes, maxDepth, maxEvents } = withDefaults(limits);
  if (payload.length === 0) throw unreadable('empty payload (no header byte)');
  if (payload.length > maxMessageBytes)
    throw unreadable(`payload of ${payload.length} bytes is over ${maxMessageBytes}`);
  const compression = BY_HEADER.get(payload[0]!);
  if (!compression)
    throw unreadable(
      `unknown header byte 0x${payload[0]!.toString(16).padStart(2, '0')} (0x00 none, 0x01 deflate, 0x02 brotli, 0x03 deflate-dict1)`,
    );
  const body = payload.subarray(1);
  let json: Uint8Array;
  try {
    json =
      compression === 'none'
        ? body
        : compression === 'deflate'
          ? zlib().inflateRawSync(body, { maxOutputLength: maxJsonBytes })
          : compression === 'deflate-dict1'
            ? zlib().inflateRawSync(body, { maxOutputLength: maxJsonBytes, dictionary: wireDictionary(compression) })
            : zlib().brotliDecompressSync(body, { maxOutputLength: maxJsonBytes });
  } catch (err) {
    // ERR_BUFFER_TOO_LARGE (a bomb), Z_BUF_ERROR (truncated), Z_DATA_ERROR (corrupt): all unreadable.
    throw unreadable(`${compression} payload does not decompress: ${errorMessage(err)}`, err);
  }
  let value: unknown;
  try {
    value = parseBoundedJson(json, { maxBytes: maxJsonBytes, maxDepth }, 'BATCH_UNREADABLE');
  } catch (err) {
    throw unreadable(`after ${compression} decompression: ${errorMessage(err)}`, err);
  }
  checkEventCount(compactEventCount(value), maxEvents, 'BATCH_UNREADABLE');
  return expandCompactBatch(value);
}
