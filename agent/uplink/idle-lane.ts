/**
 * The drain's lowest lane: messages that go only while no event waits (pictures), one at a
 * time, through the drain's own publisher and inside its airtime budget (FlightControl), so an
 * alarm stored mid-upload finds at most one such message ahead of it on the wire.
 *
 * The drain asks `peek()` whenever it has nothing of its own to send and room for more; the lane
 * answers with a message already in memory (the drain never waits on it). `sent()` says the
 * peeked message is on the wire, and `settle` comes at most once: without an error for its
 * PUBACK. A new or lost connection calls `linkChanged()`: whatever was on the wire is forgotten
 * (its PUBACK may never come), and the lane offers it again.
 */
import type { PublishAck } from './publisher.js';

export interface IdleMessage {
  topic: string;
  payload: Buffer;
  /** The message is on the wire (called just before the publish). */
  sent(): void;
  /** Its PUBACK (no error) or its refusal; only for the connection it went on, at most once. */
  settle: PublishAck;
}

export interface IdleLane {
  peek(): IdleMessage | null;
  linkChanged(up: boolean): void;
  /** The drain wants to know when the lane has a message ready (it pumps again then). */
  onReady(wake: () => void): void;
}
