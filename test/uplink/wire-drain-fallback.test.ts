/**
 * A damaged stored row in the compact format: the drain must not stop (an exception in pump
 * would take the agent down from a PUBACK callback). The outbox reader here is a stand-in of
 * our own port (OutboxReader: ArrayOutbox), holding one row whose body is not JSON beside good ones.
 */
import { describe, expect, it } from 'vitest';
import type { OutboxRow } from '../../core/contracts/outbox-store.js';
import { decodeBatchPayload } from '../../core/contracts/wire-payload.js';
import { Drain } from '../../agent/uplink/drain.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { ArrayOutbox } from '../helpers/array-outbox.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { PublisherDouble } from '../helpers/publisher-double.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('compact format, a damaged row', () => {
  it('sends the rows as JSON on <prefix>/events instead of stopping the drain; good batches stay compact', () => {
    const make = eventMaker(tempDir(), new FakeClock(), 'gw');
    const row = (pos: number, body: string): OutboxRow => ({
      pos,
      prevPos: pos - 1,
      seq: pos,
      prio: 1,
      segment: 's',
      route: 0,
      bytes: body.length,
      body,
    });
    const good = [1, 2].map((pos) => row(pos, JSON.stringify(make('high'))));
    const reader = new ArrayOutbox([...good, row(3, '{"id": torn'), row(4, JSON.stringify(make('high')))]);
    const client = new PublisherDouble((m) => m.ack());
    const sent = client.sent;
    const drain = new Drain({
      outbox: reader,
      topics: topicsFor('v/gw'),
      gatewayId: 'gw',
      batch: { maxEvents: 2, maxBytes: 1 << 20 },
      replay: { messagesPerSec: 0, burst: 1 },
      linkBudget: { queueMs: 500, messageMs: 250 },
      alarmAckTimeoutMs: 10_000,
      logger: quietLogger(),
      monoMs: () => performance.now(),
      onRefused: () => {},
      wire: { format: 'compact', compression: 'deflate', lingerMs: 0 },
    });
    drain.attach(client, 1);
    expect(sent.map((s) => s.topic)).toEqual(['v/gw/events/batch', 'v/gw/events']);
    expect(decodeBatchPayload(Buffer.from(sent[0]!.payload))).toHaveLength(2);
    expect(sent[1]!.payload).toMatch(/^\{"v":1,"gatewayId":"gw","events":\[\{"id": torn,\{/);
    drain.detach();
  });
});
