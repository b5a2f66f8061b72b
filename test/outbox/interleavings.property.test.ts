/**
 * Property: whatever order events commit in relative to their seq (a rule's alert before the
 * press that caused it, drivers and health on their own timers), however PUBACKs interleave,
 * fail or never come, however often the link drops or the process restarts, every committed
 * event is delivered unless shedding accounts for it, and the backlog ends empty.
 *
 * Runs the real SQLite outbox (tiny segments, so segment boundaries and drops are crossed
 * all the time) and the real Drain. The broker side is a hand-driven publisher (the tests'
 * double of the drain's port, PublisherDouble): the property
 * is about the order of acknowledgements, which a real broker on loopback would not vary.
 * The wire itself is covered end to end in test/e2e.
 */
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PRIORITIES, type GatewayEvent, type Priority } from '../../core/contracts/event.js';
import { Outbox } from '../../agent/outbox/outbox.js';
import { Drain } from '../../agent/uplink/drain.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { eventMaker } from '../helpers/events.js';
import { PublisherDouble, type Published } from '../helpers/publisher-double.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { outboxConfig } from '../helpers/agent-config.js';

const tempDir = useTempDirs();
const RUNS = Number(process.env.VG_PROPERTY_RUNS ?? 150);

type Step =
  | { do: 'create'; priority: Priority; hold: boolean; health: boolean }
  | { do: 'release'; pick: number }
  | { do: 'flush' }
  | { do: 'ack'; pick: number }
  | { do: 'fail'; pick: number }
  | { do: 'flushDeletes' }
  | { do: 'reconnect' }
  | { do: 'restart' }
  | { do: 'deletesFail'; on: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      do: fc.constant('create' as const),
      priority: fc.constantFrom(...PRIORITIES),
      hold: fc.boolean(),
      health: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ do: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ do: 'flush' as const }) },
  { weight: 6, arbitrary: fc.record({ do: fc.constant('ack' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('fail' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ do: 'flushDeletes' as const }) },
  { weight: 1, arbitrary: fc.constant({ do: 'reconnect' as const }) },
  { weight: 1, arbitrary: fc.constant({ do: 'restart' as const }) },
  // A card that refuses writes for a while: deletes fail and are retried (a disk fault: an edge we own).
  { weight: 1, arbitrary: fc.record({ do: fc.constant('deletesFail' as const), on: fc.boolean() }) },
);

/** One of the messages on the wire (they wait until the test acknowledges or fails them). */
function take(client: PublisherDouble, pick: number): Published | undefined {
  const pending = client.pending;
  return pending.length === 0 ? undefined : pending[pick % pending.length];
}

/** The broker's PUBACK: the events the message carries are delivered. */
function ack(m: Published | undefined, delivered: Set<string>): void {
  if (!m) return;
  const body = JSON.parse(String(m.payload)) as GatewayEvent | { events: GatewayEvent[] };
  for (const id of 'events' in body ? body.events.map((e) => e.id) : [body.id]) delivered.add(id);
  m.ack();
}

async function runScenario(
  steps: Step[],
  window: number,
  maxBytes: number,
  segmentRows: number,
  batch: number,
): Promise<void> {
  const dir = tempDir();
  const make = eventMaker(dir);
  const committed = new Map<string, GatewayEvent>();
  const delivered = new Set<string>();
  const held: GatewayEvent[] = [];
  let refused = 0;
  const config = outboxConfig({ maxBytes, criticalReserveBytes: 2000 });
  const logger = pino({ level: 'silent' });

  let deletesFail = false;
  const open = () => {
    const ob = new Outbox({ dir, config, segmentRows });
    ob.on('stored', (events) => events.forEach((e) => committed.set(e.id, e)));
    const realDelete = ob.delete.bind(ob);
    ob.delete = (rows) => (deletesFail ? null : realDelete(rows));
    return ob;
  };
  let outbox = open();
  const newDrain = (ob: Outbox) =>
    new Drain({
      outbox: ob,
      topics: topicsFor('v/gw'),
      gatewayId: 'gw',
      batch: { maxEvents: batch, maxBytes: 1 << 20 },
      replay: { messagesPerSec: 0, burst: 1 },
      linkBudget: { queueMs: 500, messageMs: 250 },
      alarmAckTimeoutMs: 10_000,
      logger,
      monoMs: () => performance.now(),
      onRefused: () => {},
    });
  let drain = newDrain(outbox);
  let client = new PublisherDouble();
  drain.attach(client, window);
  const put = (e: GatewayEvent) => void outbox.put(e).catch(() => (refused += 1));

  for (const s of steps) {
    switch (s.do) {
      case 'create': {
        const e = s.health ? { ...make(s.priority), type: 'gateway.health' } : make(s.priority);
        if (s.hold) held.push(e);
        else put(e);
        break;
      }
      case 'release':
        if (held.length > 0) put(held.splice(s.pick % held.length, 1)[0]!);
        break;
      case 'flush':
        outbox.flush();
        break;
      case 'ack':
        ack(take(client, s.pick), delivered);
        break;
      case 'fail':
        take(client, s.pick)?.fail(new Error('refused'));
        break;
      case 'flushDeletes':
        drain.flushDeletes();
        break;
      case 'reconnect':
        drain.detach();
        client.cut();
        client = new PublisherDouble();
        drain.attach(client, window);
        break;
      case 'deletesFail':
        deletesFail = s.on;
        break;
      case 'restart':
        // As a power cut after the last commit: unflushed deletes and in-flight publishes are gone.
        drain.detach();
        outbox.close();
        outbox = open();
        drain = newDrain(outbox);
        client.cut();
        client = new PublisherDouble();
        drain.attach(client, window);
        break;
    }
    await Promise.resolve();
  }

  // The link comes back for good: release what was held, acknowledge everything until the backlog is gone.
  deletesFail = false;
  for (const e of held.splice(0)) put(e);
  outbox.flush();
  await new Promise((r) => setImmediate(r));
  drain.detach();
  client.cut();
  client = new PublisherDouble();
  drain.attach(client, window);
  for (let guard = 0; outbox.size > 0 || client.pending.length > 0; guard++) {
    if (guard > 100_000) throw new Error(`backlog never drained: ${outbox.size} left`);
    const p = take(client, 0);
    if (p) ack(p, delivered);
    else drain.flushDeletes();
  }
  drain.flushDeletes();

  const shed = Object.values(outbox.stats().shed).reduce((a, b) => a + b, 0);
  const lost = [...committed.values()].filter((e) => !delivered.has(e.id));
  drain.detach();
  outbox.close();
  // The backlog's count was right: nothing undelivered is left in the store either.
  const reopened = new Outbox({ dir, config, segmentRows });
  const left = reopened
    .readPage(null, 100_000)
    .map((r) => (JSON.parse(r.body) as GatewayEvent).id)
    .filter((id) => !delivered.has(id));
  reopened.close();
  expect(left).toEqual([]);
  // Everything committed went out, except what shedding took (refusals at the door are counted as shed but were
  // never committed).
  expect(lost.length).toBe(shed - refused);
  if (shed === 0) expect(lost.map((e) => `${e.seq}:${e.priority}`)).toEqual([]);
  expect(lost.filter((e) => e.priority === 'critical')).toEqual([]);
}

describe('outbox and drain under any interleaving', () => {
  it('deliver every committed event unless shedding accounts for it (plenty of room)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 120 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (steps, window, segmentRows, batch) => runScenario(steps, window, 50_000_000, segmentRows, batch),
      ),
      { numRuns: RUNS },
    );
  });

  it('never lose a critical event, and account for every other loss, when the store is nearly full', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 120 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 6 }),
        (steps, window, segmentRows) => runScenario(steps, window, 6_000, segmentRows, 3),
      ),
      { numRuns: RUNS },
    );
  });
});
