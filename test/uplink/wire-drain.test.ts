/**
 * The compact wire format end to end: a real agent, a real Mosquitto, the county subscriber
 * decoding; and an observer that sees each message as it is on the broker (topic, MQTT 5
 * content type, payload).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import type { EventInput } from '../../core/contracts/event.js';
import { HEADER_BYTE } from '../../core/contracts/wire-payload.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { eventsOfMessage } from '../../scripts/county/decode-message.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck } from '../helpers/delivery.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker({ needsMosquitto: true }); // MQTT 5 properties: aedes speaks 3.1.1 only
});
afterAll(async () => broker.dispose());

interface Seen {
  topic: string;
  contentType: string | undefined;
  header: number;
  ids: string[];
  atMs: number;
}

async function observer(url: string, gw: string): Promise<{ client: MqttClient; seen: Seen[] }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `observer-${gw}`, clean: true });
  client.on('error', () => {});
  const seen: Seen[] = [];
  client.on('message', (topic, payload, packet) => {
    const kind = topic.endsWith('/events/batch') ? 'batch' : 'events';
    const ids = (eventsOfMessage(kind, payload) as { id: string }[]).map((e) => e.id);
    seen.push({ topic, contentType: packet.properties?.contentType, header: payload[0]!, ids, atMs: Date.now() });
  });
  await client.subscribeAsync(`village/${gw}/events/#`, { qos: 1 });
  return { client, seen };
}

const reading = (i: number): EventInput => ({
  deviceId: `sensor-${i % 4}`,
  type: 'sensor.telemetry',
  priority: 'normal',
  data: { n: i, tempC: 20 + (i % 7) / 10, pad: '' },
});

async function village(gw: string, wire: Record<string, unknown>, protocolVersion: 4 | 5 = 5) {
  const dir = tempDir();
  const sub = await new CountySubscriber({ url: broker.url, clientId: `county-${gw}`, protocolVersion }).start();
  const obs = await observer(broker.url, gw);
  // The airtime bounds (linkBudget) off: on a loopback link they would still cut batches while the
  // first round trips are measured, and these tests are about what lingers and what goes at once.
  const linkBudget = { queueMs: 60_000, messageMs: 60_000 };
  const config = testConfig(broker.url, dir, { gateway: { id: gw }, mqtt: { protocolVersion, wire, linkBudget } });
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  const check = new DeliveryCheck(sub).watch(agent);
  await agent.start();
  await sub.waitFor(() => [...sub.events.values()].some((e) => e.type === 'gateway.started'), 10_000);
  const stop = async () => {
    await agent.stop();
    await sub.stop();
    await obs.client.endAsync();
  };
  return { agent, sub, seen: obs.seen, check, stop };
}

describe('compact wire format through Mosquitto', () => {
  it('lingers normal events into one batch, sends a full batch at once, a high event at once with what waits', async () => {
    const v = await village('gw-linger', { format: 'compact', compression: 'deflate', lingerMs: 1500 });
    await waitUntil(() => v.seen.length > 0, 3000, 'the observer to see gateway.started');
    const started = v.seen[0]!;
    expect(started.topic).toBe('village/gw-linger/events/batch');
    expect(started.contentType).toBe('application/vnd.village.batch.v2; compression=deflate');
    expect(started.header).toBe(HEADER_BYTE.deflate);

    // Five readings: nothing goes for lingerMs, then all five in one message.
    const before = v.seen.length;
    const t0 = Date.now();
    const five = await Promise.all([0, 1, 2, 3, 4].map((i) => v.agent.emit(reading(i))));
    await new Promise((r) => setTimeout(r, 700));
    expect(v.seen.length).toBe(before);
    await v.sub.waitFor(() => five.every((e) => v.sub.events.has(e.id)), 5000);
    const lingered = v.seen.slice(before);
    expect(lingered).toHaveLength(1);
    expect(lingered[0]!.ids.sort()).toEqual(five.map((e) => e.id).sort());
    expect(lingered[0]!.atMs - t0).toBeGreaterThanOrEqual(1400);

    // A full batch (maxEvents 100 by default) does not wait; the rest does.
    const n = v.seen.length;
    const many = await Promise.all(Array.from({ length: 130 }, (_, i) => v.agent.emit(reading(i))));
    await waitUntil(() => v.seen.length > n, 1000, 'the full batch, at once');
    expect(v.seen[n]!.ids).toHaveLength(100);
    await v.sub.waitFor(() => many.every((e) => v.sub.events.has(e.id)), 5000);
    expect(v.seen.slice(n).map((s) => s.ids.length)).toEqual([100, 30]);
    // Exactly a full batch and nothing behind it: full all the same, it goes at once.
    const hundred = await Promise.all(Array.from({ length: 100 }, (_, i) => v.agent.emit(reading(i))));
    await waitUntil(() => hundred.every((e) => v.sub.events.has(e.id)), 1000, 'exactly a full batch, at once');

    // Two readings wait; a door opening (high) goes at once and takes them along.
    const m = v.seen.length;
    const waiting = await Promise.all([0, 1].map((i) => v.agent.emit(reading(i))));
    await new Promise((r) => setTimeout(r, 200));
    const door = await v.agent.emit({
      deviceId: 'door-1',
      type: 'door.opened',
      priority: 'high',
      data: { input: '1', active: true },
    });
    await waitUntil(() => v.sub.events.has(door.id), 700, 'the door event, without lingering');
    expect(v.seen.slice(m)).toHaveLength(1);
    expect(v.seen[m]!.ids.sort()).toEqual([door, ...waiting].map((e) => e.id).sort());

    // A press is critical: JSON on <prefix>/events, alone, at once, no content type (as before).
    const press = await v.agent.emit({
      deviceId: 'btn-1',
      type: 'alarm.pressed',
      priority: 'critical',
      data: { input: '2', active: true },
    });
    await waitUntil(() => v.sub.events.has(press.id), 700, 'the press');
    const msg = v.seen.find((s) => s.ids.includes(press.id))!;
    expect(msg).toMatchObject({ topic: 'village/gw-linger/events', ids: [press.id], contentType: undefined });
    expect(msg.header).toBe('{'.charCodeAt(0));

    await v.check.expectAllDelivered();
    expect(v.sub.malformed + v.sub.unreadable).toBe(0);
    await v.stop();
  });

  it('MQTT 3.1.1 with brotli: the same payload, the header byte says the compression; the county decodes it', async () => {
    const v = await village('gw-v4', { format: 'compact', compression: 'brotli', lingerMs: 300 }, 4);
    const evs = await Promise.all(Array.from({ length: 40 }, (_, i) => v.agent.emit(reading(i))));
    await v.sub.waitFor(() => evs.every((e) => v.sub.events.has(e.id)), 5000);
    const batches = v.seen.filter((s) => s.topic === 'village/gw-v4/events/batch');
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) expect(b).toMatchObject({ header: HEADER_BYTE.brotli, contentType: undefined });
    // Every received envelope is exactly what the gateway committed.
    const committed = new Map(evs.map((e) => [e.id, JSON.stringify(e)]));
    for (const e of evs) expect(JSON.stringify(v.sub.events.get(e.id))).toBe(committed.get(e.id));
    await v.check.expectAllDelivered();
    await v.stop();
  });

  it("json (the default for a config without mqtt.wire) keeps today's form: nothing on the batch topic", async () => {
    const v = await village('gw-json', {});
    const evs = await Promise.all(Array.from({ length: 10 }, (_, i) => v.agent.emit(reading(i))));
    await v.sub.waitFor(() => evs.every((e) => v.sub.events.has(e.id)), 5000);
    expect(v.seen.every((s) => s.topic === 'village/gw-json/events' && s.header === '{'.charCodeAt(0))).toBe(true);
    await v.check.expectAllDelivered();
    await v.stop();
  });

  it('a corrupt batch is counted as unreadable with its reason; the subscriber goes on', async () => {
    const sub = await new CountySubscriber({ url: broker.url, clientId: 'county-corrupt' }).start();
    const why: string[] = [];
    sub.on('unreadable', (_t, reason) => why.push(reason));
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'forger' });
    await pub.publishAsync('village/gw-x/events/batch', Buffer.from([0x01, 0xde, 0xad, 0xbe, 0xef]), { qos: 1 });
    await pub.publishAsync('village/gw-x/events/batch', Buffer.from([0x09, 0x7b, 0x7d]), { qos: 1 });
    await waitUntil(() => sub.unreadable === 2, 3000, 'two unreadable messages');
    expect(why[0]).toMatch(/deflate payload does not decompress/);
    expect(why[1]).toMatch(/unknown header byte 0x09/);
    await pub.endAsync();
    await sub.stop();
  });
});
