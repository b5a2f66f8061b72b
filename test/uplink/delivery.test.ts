import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck } from '../helpers/delivery.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker.dispose());

describe('store and forward to a real broker', () => {
  it('publishes, deletes on PUBACK, sends criticals alone and first, batches the backlog', async () => {
    const dir = tempDir();
    const sub = await new CountySubscriber({ url: broker.url, clientId: 'county-delivery' }).start();
    // Airtime bounds off (linkBudget): this test is about batching, not about a link being measured.
    const linkBudget = { queueMs: 60_000, messageMs: 60_000 };
    const config = testConfig(broker.url, dir, { mqtt: { batch: { maxEvents: 50 }, linkBudget } });
    const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
    const check = new DeliveryCheck(sub).watch(agent);
    await agent.open(); // the outbox, for the backlog below
    // Backlog before the link is up: 300 telemetry, then 5 alarms.
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        agent.emit({ deviceId: 'meter', type: 'sensor.telemetry', priority: 'normal', data: { i } }),
      ),
    );
    const alarms = await Promise.all(
      Array.from({ length: 5 }, () =>
        agent.emit({
          deviceId: 'btn',
          type: 'alarm.pressed',
          priority: 'critical',
          data: { input: 'in1', active: true },
        }),
      ),
    );
    const order: string[] = [];
    const ids: string[] = [];
    sub.on('event', (e) => (order.push(e.type), ids.push(e.id)));
    await agent.start();
    await check.expectAllDelivered(); // the 305 events and gateway.started, seqs 1..306 without a gap
    await waitUntil(() => agent.observe.backlog().total.count === 0, 5000, 'outbox to empty');
    // gateway.started is high priority and stored after the alarms; alarms come first of all.
    expect(order.slice(0, 5)).toEqual(Array(5).fill('alarm.pressed'));
    expect(new Set(ids.slice(0, 5))).toEqual(new Set(alarms.map((e) => e.id)));
    const stats = agent.observe.link();
    // 300 normal events in batches of <= 50 -> far fewer messages than events (plus the small
    // first message that measures the round trip).
    expect(stats.publishedMessages).toBeLessThanOrEqual(5 + 1 + 300 / 50 + 3);
    expect(sub.duplicates).toBe(0); // a clean link: not even identical re-sends
    await agent.stop();
    await sub.stop();
  });

  it('keeps the retained status: online with version and config hash, offline on clean stop', async () => {
    const dir = tempDir();
    const config = testConfig(broker.url, dir, { gateway: { id: 'gw-status' } });
    const agent = new Agent({ config, configHash: 'cafe1234', baseDir: dir, logger: quietLogger() });
    const statuses: Record<string, unknown>[] = [];
    const sub = new CountySubscriber({ url: broker.url, clientId: 'county-status' });
    sub.on('status', (_t, b) => statuses.push(b as Record<string, unknown>));
    await sub.start();
    const check = new DeliveryCheck(sub).watch(agent);
    await agent.start();
    await sub.waitFor(() => statuses.some((s) => s.state === 'online'), 5000);
    expect(statuses.find((s) => s.state === 'online')).toMatchObject({
      gatewayId: 'gw-status',
      configHash: 'cafe1234',
      bootId: agent.observe.bootId,
    });
    await check.expectAllDelivered();
    await agent.stop();
    await sub.waitFor(() => statuses.some((s) => s.state === 'offline' && s.reason === 'shutdown'), 5000);
    await sub.stop();
  });

  it('survives the broker going down mid-drain: nothing lost, resent with the same ids', async () => {
    const dir = tempDir();
    const b = await startBroker({ persistence: true });
    const sub = await new CountySubscriber({ url: b.url, clientId: 'county-restart' }).start();
    const config = testConfig(b.url, dir, {
      gateway: { id: 'gw-restart' },
      mqtt: { replay: { messagesPerSec: 400, burst: 20 }, batch: { maxEvents: 5 } },
    });
    const agent = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger() });
    const check = new DeliveryCheck(sub).watch(agent);
    await agent.open(); // the outbox, for a backlog queued before the link starts
    await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        agent.emit({
          deviceId: 'meter',
          type: 'sensor.telemetry',
          priority: i % 100 === 0 ? 'critical' : 'normal',
          data: { i },
        }),
      ),
    );
    await agent.start();
    await sub.waitFor(() => sub.events.size > 300, 10_000);
    const attempts = agent.observe.link().attempts;
    await b.stop('SIGTERM'); // mid-drain
    const during = sub.events.size;
    expect(during).toBeLessThan(3000);
    // Down until the gateway has seen it gone and tried again in vain.
    await waitUntil(
      () =>
        !agent.observe.link().up &&
        agent.observe.link().attempts > attempts &&
        /ECONNREFUSED/.test(agent.observe.link().lastError ?? ''),
      5000,
      'a refused reconnect',
    );
    await b.start();
    await check.expectAllDelivered(30_000); // every id, seqs without a gap, re-sent copies identical
    await waitUntil(() => agent.observe.backlog().total.count === 0, 5000, 'outbox to empty');
    expect(agent.observe.link().reconnects).toBeGreaterThanOrEqual(1);
    await agent.stop();
    await sub.stop();
    await b.dispose();
  });

  it('answers commands, and rejects unknown or malformed ones with an error reply', async () => {
    const dir = tempDir();
    const config = testConfig(broker.url, dir, { gateway: { id: 'gw-cmd' } });
    const agent = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger() });
    const county = new CountySubscriber({ url: broker.url, clientId: 'county-cmd' });
    await county.start();
    const check = new DeliveryCheck(county).watch(agent);
    await agent.start();
    await waitUntil(() => agent.observe.link().up, 5000, 'uplink');
    const replies: Record<string, unknown>[] = [];
    county.client!.on('message', (topic, payload) => {
      if (topic.includes('/cmd-reply/')) replies.push({ topic, ...JSON.parse(payload.toString()) });
    });
    await county.client!.subscribeAsync('village/gw-cmd/cmd-reply/+', { qos: 1 });
    const send = (name: string, payload: string) =>
      county.client!.publishAsync(`village/gw-cmd/cmd/${name}`, payload, { qos: 1 });
    await send('status', JSON.stringify({ id: 'r1' }));
    await send('launch-missiles', JSON.stringify({ id: 'r2' }));
    await send('status', '{not json');
    await send('status', JSON.stringify({ id: 'r4', args: { verbose: true } }));
    await waitUntil(() => replies.length >= 4, 5000, 'four replies');
    const byId = (id: string) => replies.find((r) => r.id === id);
    expect(byId('r1')).toMatchObject({ ok: true, command: 'status' });
    expect((byId('r1')!.result as { outbox: unknown }).outbox).toBeDefined();
    expect(byId('r2')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
    expect(replies.find((r) => r.id === undefined)).toMatchObject({ ok: false, error: { code: 'MALFORMED' } });
    expect(byId('r4')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    expect((byId('r4')!.error as { message: string }).message).toMatch(/args\.verbose/);
    await check.expectAllDelivered();
    await agent.stop();
    await county.stop();
  });
});
