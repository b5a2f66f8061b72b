/**
 * What a county decoder accepts, in one place (docs/county.md, "MQTT contract", *Limits*): every
 * message on an events, health or status topic, JSON or compact, is checked against these
 * before anything of unbounded size or depth is built from it. A stranger who can publish to
 * the county's broker must not be able to stop the county's tools with one message: a stack
 * overflow (JSON nested 200,000 deep is parsed fine by V8, but every recursive walk after it,
 * JSON.stringify included, overflows), memory (a 98 MB batch parsed whole), or time.
 *
 * The gateway never comes near them: its batches are at most `mqtt.batch.maxBytes` (64 KiB by
 * default, at most maxMessageBytes) and 10,000 events, and an envelope nests 2 levels plus its data.
 */
import { GatewayError, type ErrorCode } from '../kernel/errors.js';

export interface WireLimits {
  /** The largest message accepted on any events, health or status topic, as it arrives (compressed). */
  maxMessageBytes: number;
  /** The largest JSON a compact batch may inflate to (checked while inflating: a zip bomb stops early). */
  maxJsonBytes: number;
  /** The deepest nesting of arrays and objects in a JSON document, counted before it is parsed. */
  maxDepth: number;
  /** The most events one message may carry. */
  maxEvents: number;
}

export const WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxMessageBytes: 1024 ** 2,
  maxJsonBytes: 16 * 1024 ** 2,
  // A compact batch puts an event's data 6 levels down (batch, groups, group, events, event,
  // data): 64 leaves data 58 levels of its own, more than any device or flow sends.
  maxDepth: 64,
  maxEvents: 10_000,
});

/**
 * The county brokers' `max_packet_size` (scripts/brokers/county/*.conf): the largest message the
 * decoders take plus 64 KiB for the packet's own header, topic and MQTT 5 properties. A client
 * that sends a bigger packet is disconnected by the broker before the message reaches any
 * subscriber; the gateway never does (the largest batch is maxMessageBytes, an event's data is
 * bounded by EVENT_DATA_LIMITS, agent/event-data-limits.ts).
 */
export const BROKER_MAX_PACKET_BYTES = WIRE_LIMITS.maxMessageBytes + 64 * 1024;

export type DecodeLimits = Partial<WireLimits>;

export const withDefaults = (limits: DecodeLimits = {}): WireLimits => ({ ...WIRE_LIMITS, ...limits });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = new Set([0x5b, 0x7b]); // [ {
const CLOSE = new Set([0x5d, 0x7d]); // ] }

/**
 * Whether JSON text nests arrays and objects deeper than `max`, found by one pass over its bytes
 * (no recursion, no allocation). Exact for valid JSON; for invalid JSON it may be wrong either
 * way, which is harmless: JSON.parse refuses that text anyway, and V8's parser does not recurse.
 * Works on UTF-8 bytes because `"`, `\`, brackets and braces never occur inside a multi-byte sequence.
 */
export function nestsDeeperThan(json: Uint8Array, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === QUOTE) {
      // Skip the string, escapes included.
      for (i++; i < json.length && json[i] !== QUOTE; i++) if (json[i] === BACKSLASH) i++;
    } else if (OPEN.has(c)) {
      if (++depth > max) return true;
    } else if (CLOSE.has(c)) depth--;
  }
  return false;
}

/**
 * JSON text (UTF-8 bytes) parsed only once it is known to be within `maxBytes` and `maxDepth`:
 * anything else is a GatewayError with `code` and a reason a log line can carry.
 */
export function parseBoundedJson(
  json: Uint8Array,
  limits: { maxBytes: number; maxDepth: number },
  code: ErrorCode = 'MESSAGE_UNREADABLE',
): unknown {
  if (json.length > limits.maxBytes)
    throw new GatewayError(code, `JSON of ${json.length} bytes is over ${limits.maxBytes}`);
  if (nestsDeeperThan(json, limits.maxDepth))
    throw new GatewayError(code, `JSON nests deeper than ${limits.maxDepth} levels`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch (err) {
    throw new GatewayError(code, `not UTF-8: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8's message quotes a window of the text, never all of it.
    throw new GatewayError(code, `not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Refuses a message said to carry more events than allowed, before any is expanded or judged. */
export function checkEventCount(count: number, maxEvents: number, code: ErrorCode = 'MESSAGE_UNREADABLE'): void {
  if (count > maxEvents) throw new GatewayError(code, `${count} events in one message is over ${maxEvents}`);
}
