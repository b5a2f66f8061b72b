/** One MQTT message the drain sends: its topic, payload and the outbox rows it carries. */
import type { OutboxRow } from '../../core/contracts/outbox-store.js';
import type { PublishProperties } from './publisher.js';

export interface Message {
  topic: string;
  payload: string | Buffer;
  /** Payload bytes (what the message costs on the wire, before MQTT's framing). */
  bytes: number;
  rows: OutboxRow[];
  properties?: PublishProperties;
}

export const single = (topic: string, row: OutboxRow): Message => ({
  topic,
  payload: row.body,
  bytes: row.bytes,
  rows: [row],
});

/** PUBLISH fixed header, remaining length, topic length, packet id: about this many bytes beside topic and payload. */
export const MQTT_OVERHEAD = 9;
