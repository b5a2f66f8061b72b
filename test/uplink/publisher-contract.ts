/**
 * What any implementation of the drain's publisher port (agent/uplink/publisher.ts) must do,
 * as one suite: publisher.test.ts runs it against mqtt.js through the uplink's adapter on a
 * real Mosquitto, and against the tests' double (test/helpers/publisher-double.ts), so a
 * drain test that uses the double stands on what the real client does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Publisher, PublishOptions } from '../../agent/uplink/publisher.js';
import { waitUntil } from '../helpers/wait.js';

export interface Received {
  topic: string;
  payload: Buffer;
  contentType?: string;
}

/** A publisher and the far side it publishes to. */
export interface PublisherRig {
  publisher: Publisher;
  /** Where messages may go: the far side takes anything below it. */
  prefix: string;
  /** A topic the far side refuses (the broker's ACL). */
  refusedTopic: string;
  /** What reached the far side, in the order it arrived. */
  received(): readonly Received[];
  /** The link goes without a goodbye, as connection.ts ends one that dropped. */
  cut(): void;
  close(): Promise<void>;
}

/** A publish's settlements: how many, and the first one's error (null: acknowledged). */
class Outcome {
  calls = 0;
  err: Error | null = null;
  onAck = (err?: Error | null): void => {
    this.calls += 1;
    if (this.calls === 1) this.err = err ?? null;
  };

  /** Never settled, or refused: anything but an acknowledgement. */
  get unacknowledged(): boolean {
    return this.calls === 0 || this.err instanceof Error;
  }

  settled(ms: number, what: string): Promise<void> {
    return waitUntil(() => this.calls > 0, ms, what);
  }
}

const QOS1: PublishOptions = { qos: 1 };
/** How long a second settlement, or one that must not come, is given to show itself. */
const QUIET_MS = 300;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function publisherContract(name: string, makeRig: () => Promise<PublisherRig>): void {
  describe(`publisher port: ${name}`, () => {
    let rig: PublisherRig;
    beforeEach(async () => {
      rig = await makeRig();
    });
    afterEach(async () => {
      await rig.close();
    });

    const publish = (topic: string, payload: string | Buffer, opts: PublishOptions = QOS1): Outcome => {
      const o = new Outcome();
      rig.publisher.publish(topic, payload, opts, o.onAck);
      return o;
    };

    it('acknowledges a QoS 1 message once, without an error, and the far side gets it as sent', async () => {
      const topic = `${rig.prefix}/events`;
      const o = publish(topic, '{"id":"e1"}');
      await o.settled(5000, 'the PUBACK');
      await waitUntil(() => rig.received().length > 0, 5000, 'the message at the far side');
      await pause(QUIET_MS);
      expect(o.err).toBeNull();
      expect(o.calls).toBe(1);
      expect(rig.received().map((m) => [m.topic, m.payload.toString()])).toEqual([[topic, '{"id":"e1"}']]);
    });

    it('carries a binary payload byte for byte (a compact batch)', async () => {
      const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
      const o = publish(`${rig.prefix}/events/batch`, bytes);
      await o.settled(5000, 'the PUBACK');
      await waitUntil(() => rig.received().length > 0, 5000, 'the message at the far side');
      expect(o.err).toBeNull();
      expect(rig.received()[0]!.payload.equals(bytes)).toBe(true);
    });

    it('settles each of a window of 20 messages in flight once, and they arrive in order', async () => {
      const outcomes = Array.from({ length: 20 }, (_, i) => publish(`${rig.prefix}/events`, `m${i}`));
      await waitUntil(() => outcomes.every((o) => o.calls > 0), 5000, 'twenty PUBACKs');
      await waitUntil(() => rig.received().length === 20, 5000, 'twenty messages at the far side');
      await pause(QUIET_MS);
      expect(outcomes.map((o) => [o.calls, o.err])).toEqual(outcomes.map(() => [1, null]));
      expect(rig.received().map((m) => m.payload.toString())).toEqual(outcomes.map((_, i) => `m${i}`));
    });

    it('passes the MQTT 5 content type to the far side', async () => {
      const o = publish(`${rig.prefix}/events/batch`, Buffer.from([1, 2, 3]), {
        qos: 1,
        properties: { contentType: 'application/vnd.test' },
      });
      await o.settled(5000, 'the PUBACK');
      await waitUntil(() => rig.received().length > 0, 5000, 'the message at the far side');
      expect(rig.received()[0]!.contentType).toBe('application/vnd.test');
    });

    // What comes after a refusal is not part of the port: the drain drops the link at once
    // (onRefused), and Mosquitto 2.0.11 with max_inflight_messages 0 closes it itself.
    it('settles a message the far side refuses with an error, once', async () => {
      const refused = publish(rig.refusedTopic, 'no');
      await refused.settled(5000, 'the refusal');
      await pause(QUIET_MS);
      expect(refused.err).toBeInstanceOf(Error);
      expect(refused.calls).toBe(1);
      expect(rig.received()).toEqual([]);
    });

    it('never acknowledges a message in flight when the link went, nor one published after', async () => {
      const inFlight = publish(`${rig.prefix}/events`, 'lost');
      rig.cut();
      await pause(QUIET_MS);
      const after = publish(`${rig.prefix}/events`, 'late');
      await pause(QUIET_MS);
      expect(inFlight.unacknowledged, 'the message in flight was acknowledged').toBe(true);
      expect(after.unacknowledged, 'the message published after the cut was acknowledged').toBe(true);
      expect(after.calls).toBeLessThanOrEqual(1);
    });
  });
}
