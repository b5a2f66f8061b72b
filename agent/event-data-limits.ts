/**
 * What an event's data may be, checked when the event is built (event-factory.ts): nothing
 * the gateway emits may be unreadable at the county. The county's decoders refuse a message
 * nesting deeper than WIRE_LIMITS.maxDepth or over maxMessageBytes (wire-limits.ts); an event
 * refused there is lost for good, and one the broker refuses (over its max_packet_size) drops
 * the gateway's connection at every retry. A payload can come from outside our code (a serial
 * profile's decoded record, a flow), so it is checked here, once, before it gets a seq.
 */
import { WIRE_LIMITS } from '../core/contracts/wire-limits.js';

export const EVENT_DATA_LIMITS = Object.freeze({
  // A compact batch puts data 6 levels down (batch, groups, group, events, event, data): 2 to spare.
  maxDepth: WIRE_LIMITS.maxDepth - 8,
  // Its JSON: a quarter of the largest message, so an event alone in a message (bigger than
  // mqtt.batch.maxBytes) with its envelope is far inside it, escaped or not.
  maxBytes: WIRE_LIMITS.maxMessageBytes / 4,
});

/** Why `data` cannot go to the county (too deep, too big, not JSON), or null when it can. */
export function eventDataProblem(data: Record<string, unknown>): string | null {
  // Depth first, without recursion: a payload nested 200,000 deep (or a cycle) stops here,
  // before JSON.stringify could overflow the stack on it.
  const stack: [unknown, number][] = [[data, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > EVENT_DATA_LIMITS.maxDepth) return `data nests deeper than ${EVENT_DATA_LIMITS.maxDepth} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
    if (stack.length > 1_000_000) return 'data has over 1,000,000 values';
  }
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    return `data is not JSON: ${(err as Error).message}`;
  }
  const bytes = Buffer.byteLength(json);
  return bytes > EVENT_DATA_LIMITS.maxBytes ? `data of ${bytes} bytes is over ${EVENT_DATA_LIMITS.maxBytes}` : null;
}
