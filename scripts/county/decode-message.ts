/**
 * The county's side of the wire formats (docs/county.md, "MQTT contract"): the events a message
 * carries, whatever form it took. One function a subscriber calls per message, so every
 * county tool (the subscriber, the delivery check, tests) reads the formats the same way.
 *
 *   <prefix>/events        JSON: one envelope, or a v1 batch {"v":1,"gatewayId","events":[...]}
 *   <prefix>/events/batch  a header byte (0x00 none, 0x01 deflate, 0x02 brotli, 0x03 deflate-dict1), then a v2 compact batch
 *
 * Every path is bounded by the same limits (`WIRE_LIMITS`, core/contracts/wire-limits.ts: size,
 * nesting depth checked before parsing, event count). A payload it cannot read throws a
 * GatewayError (BATCH_UNREADABLE for a batch, MESSAGE_UNREADABLE for JSON) with a message that
 * says why; it never returns half a batch.
 */
import { expandCompactBatch } from '../../core/contracts/wire-format.js';
import {
  checkEventCount,
  parseBoundedJson,
  withDefaults,
  WIRE_LIMITS,
  type DecodeLimits,
} from '../../core/contracts/wire-limits.js';
import { compactEventCount, decodeBatchPayload } from '../../core/contracts/wire-payload.js';

/** Which of the two events topics a message came on. */
export type EventsTopicKind = 'events' | 'batch';

/** The kind of events topic under `<root>/<gatewayId>/`, or null for any other topic. */
export function eventsTopicKind(rest: readonly string[]): EventsTopicKind | null {
  if (rest.length === 2 && rest[1] === 'events') return 'events';
  if (rest.length === 3 && rest[1] === 'events' && rest[2] === 'batch') return 'batch';
  return null;
}

/**
 * The events of an already parsed JSON document: a v1 batch's list, a v2 compact batch
 * expanded, or the document itself (one envelope). What a JSON-lines file holds per line.
 * A batch of more than `maxEvents` is refused before any of it is expanded.
 */
export function eventsOfJson(body: unknown, maxEvents = WIRE_LIMITS.maxEvents): unknown[] {
  const b = body as { v?: unknown; events?: unknown; groups?: unknown } | null;
  if (b && typeof b === 'object' && b.v === 2 && 'groups' in b) {
    checkEventCount(compactEventCount(b), maxEvents);
    return expandCompactBatch(b);
  }
  if (b && typeof b === 'object' && Array.isArray(b.events)) {
    checkEventCount(b.events.length, maxEvents);
    return b.events;
  }
  return [body];
}

/** A JSON message (`<prefix>/events`, `health`, `status`) parsed within the limits: size first, then depth. */
export function parseJsonMessage(payload: Uint8Array, limits?: DecodeLimits): unknown {
  const l = withDefaults(limits);
  return parseBoundedJson(payload, { maxBytes: l.maxMessageBytes, maxDepth: l.maxDepth });
}

/** The events of one message on an events topic. */
export function eventsOfMessage(kind: EventsTopicKind, payload: Buffer, limits?: DecodeLimits): unknown[] {
  if (kind === 'batch') return decodeBatchPayload(payload, limits);
  return eventsOfJson(parseJsonMessage(payload, limits), withDefaults(limits).maxEvents);
}
