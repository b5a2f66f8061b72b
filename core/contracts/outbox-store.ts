/**
 * What the uplink sees of the outbox: read a page in sending order, delete what the broker
 * acknowledged, hear when new events are stored. The outbox is the durability boundary; the
 * uplink never holds an event the outbox has not committed, and deletes only after a PUBACK.
 */
import type { GatewayEvent } from './event.js';

/** One stored event as read for sending. */
export interface OutboxRow {
  /** Insertion position: the outbox's order and the row's identity there. */
  pos: number;
  /** The pos of the live row before this one when it was read (or the watermark): nothing lies between, ever. */
  prevPos: number;
  seq: number;
  prio: number;
  /** The segment table it was read from. */
  segment: string;
  /** Which topic it goes to (see ROUTE); an integer, because reading a type string per row costs. */
  route: number;
  bytes: number;
  body: string;
}

/** Topic routes stored per row. */
export const ROUTE = { events: 0, health: 1 } as const;

/** Where a reader stands: the last (priority rank, pos) it read. */
export interface Cursor {
  prio: number;
  pos: number;
}

export interface OutboxReader {
  /** Up to `limit` rows after `cursor`, most urgent priority first, insertion order within one. */
  readPage(cursor: Cursor | null, limit: number): OutboxRow[];
  /** Removes acknowledged rows (as read by readPage); null when the store refused the delete. */
  delete(rows: readonly OutboxRow[]): number | null;
  on(event: 'stored', listener: (events: GatewayEvent[]) => void): unknown;
  /** Committed, undelivered events of one priority rank (in flight included). */
  waiting(prio: number): number;
}

/**
 * An event the outbox refused for lack of storage (the disk full, its reserve kept for
 * alarms, or a failed write): the agent counts these and logs them at most once a second
 * (storage-failures.ts), so a producer logs none of its own (a full card fails every event,
 * hundreds a second).
 */
export function isStorageRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'DISK_FULL' || code === 'STORAGE_FAILED';
}

/**
 * A refusal the agent counts and logs itself, so a producer logs none of its own: for lack of
 * storage (above), or for its data, logged once a minute a type (payload-problems.ts: a
 * payload that does not match its catalogue entry, data the county could not read). A device
 * sending a malformed record every second must not log a line a second.
 */
export function isReportedRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return isStorageRefusal(err) || code === 'PAYLOAD_INVALID' || code === 'EVENT_UNSENDABLE';
}
