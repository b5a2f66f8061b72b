/** What the agent tells the county about itself: recovery, health, shedding. Through a real broker. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { CountySubscriber, type ReceivedEvent } from '../../scripts/county-subscriber.js';
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

const byType = (sub: CountySubscriber, type: string): ReceivedEvent[] =>
  [...sub.events.values()].filter((e) => e.type === type);

describe('agent reports', () => {
  it('starts on a corrupt outbox and tells the county with a critical event', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'outbox.db'), 'this is not a database, it is a torn SD card write'.repeat(200));
    const sub = await new CountySubscriber({ url: broker.url, clientId: 'county-recovered' }).start();
    const agent = new Agent({
      config: testConfig(broker.url, dir, { gateway: { id: 'gw-recovered' } }),
      configHash: 'x',
      baseDir: dir,
      logger: quietLogger(),
    });
    const check = new DeliveryCheck(sub).watch(agent);
    await agent.start();
    await sub.waitFor(() => byType(sub, 'gateway.storage_recovered').length === 1, 10_000);
    const ev = byType(sub, 'gateway.storage_recovered')[0]!;
    expect(ev.priority).toBe('critical');
    expect(ev.data.movedTo).toMatch(/outbox\.db\.corrupt-/);
    expect(String(ev.data.reason)).toMatch(/NOTADB|not a database/i);
    const v = await check.expectAllDelivered();
    expect(v.boots[0]).toMatchObject({ firstSeq: ev.seq, anchored: true }); // the boot begins with the recovery report
    await agent.stop();
    await sub.stop();
  });

  it('publishes health on the health topic with backlog, shedding, link, memory, disk and uptime', async () => {
    const dir = tempDir();
    const sub = await new CountySubscriber({ url: broker.url, clientId: 'county-health' }).start();
    const topics: string[] = [];
    sub.client!.on('message', (t) => topics.push(t));
    const agent = new Agent({
      config: testConfig(broker.url, dir, { gateway: { id: 'gw-health' }, health: { intervalSec: 1 } }),
      configHash: 'x',
      baseDir: dir,
      logger: quietLogger(),
    });
    const check = new DeliveryCheck(sub).watch(agent);
    await agent.start();
    await sub.waitFor(() => byType(sub, 'gateway.health').length >= 1, 10_000);
    const h = byType(sub, 'gateway.health')[0]!;
    expect(Object.keys(h.data).sort()).toEqual(
      [
        'backlog',
        'backlogTotal',
        'devices',
        'diskFreeBytes',
        'oldestAgeMs',
        'oldestAgeSec',
        'payloadProblems',
        'rssBytes',
        'shed',
        'storage',
        'uplink',
        'uptimeMs',
        'uptimeSec',
      ].sort(),
    );
    // Every duration in seconds has its twin in milliseconds, the unit `status` uses.
    expect(h.data.uplink).toHaveProperty('downForMs');
    expect(h.data.uplink).toHaveProperty('lastPubackAgeMs');
    expect(h.data.devices).toEqual({ total: 0, online: 0, offline: [], offlineMore: 0 });
    expect(h.data.uplink).toMatchObject({ state: 'up', reconnects: 0 });
    expect(h.data.diskFreeBytes as number).toBeGreaterThan(0);
    expect(h.data.storage).toEqual({
      failures: { commit: 0, delete: 0, sweep: 0 },
      eventsNotStored: 0,
      lastError: null,
    });
    expect(h.data.rssBytes as number).toBeGreaterThan(10e6);
    expect(topics).toContain('village/gw-health/health');
    await check.expectAllDelivered(); // health shares the seq stream
    await agent.stop();
    await sub.stop();
  });

  it('reports shedding as an event with exact counts', async () => {
    const dir = tempDir();
    const sub = await new CountySubscriber({ url: broker.url, clientId: 'county-shed' }).start();
    const config = testConfig('mqtt://127.0.0.1:1', dir, {
      gateway: { id: 'gw-shed' },
      health: { intervalSec: 1 },
      outbox: { maxBytes: 60_000, criticalReserveBytes: 10_000 },
    });
    const offline = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger() });
    const check = new DeliveryCheck(sub).watch(offline);
    const reports: string[] = [];
    offline.observe.onEvent((e) => e.type === 'gateway.events_shed' && reports.push(e.id));
    await offline.start(); // no broker at port 1: everything stays in the outbox
    const results = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) =>
        offline.emit({ deviceId: 'meter', type: 'sensor.telemetry', priority: 'low', data: { i } }),
      ),
    );
    const shedTotal = offline.observe.backlog().shed.low;
    expect(shedTotal).toBeGreaterThan(100);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(400); // low displaces older low
    await waitUntil(() => reports.length > 0, 5000, 'the periodic shedding report');
    await offline.stop();
    // Back online: the report itself reaches the county.
    const online = new Agent({
      config: { ...config, mqtt: { ...config.mqtt, url: broker.url } },
      configHash: 'x',
      baseDir: dir,
      logger: quietLogger(),
    });
    check.watch(online);
    await online.start();
    await sub.waitFor(() => byType(sub, 'gateway.events_shed').length >= 1, 10_000);
    const report = byType(sub, 'gateway.events_shed')[0]!;
    expect(report.priority).toBe('high');
    expect((report.data.totals as Record<string, number>).low).toBe(shedTotal);
    // Everything else arrives; what did not is exactly what the gateway reported shed (health and
    // the reports themselves displaced a few more low events after the count above).
    const v = await check.expectAllDelivered();
    expect(v.lost['gw-shed']).toBe(v.shed['gw-shed']);
    expect(v.undelivered).toHaveLength(v.shed['gw-shed']!);
    expect(v.shed['gw-shed']).toBeGreaterThanOrEqual(shedTotal);
    await online.stop();
    await sub.stop();
  });
});
