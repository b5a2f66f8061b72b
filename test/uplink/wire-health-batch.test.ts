/**
 * `mqtt.wire.health: batch`: health travels in the compact batches (deflate-dict1 here) like any
 * low event, nothing goes on `<prefix>/health`, and the county subscriber gets every health event
 * with everything else accounted for. The default (`topic`) keeps health on its own topic.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { HEADER_BYTE } from '../../core/contracts/wire-payload.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { eventsOfMessage } from '../../scripts/county/decode-message.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

interface Seen {
  topic: string;
  header: number;
  types: string[];
}

async function run(gw: string, health: 'topic' | 'batch') {
  const url = brokerRef.current.url;
  const observer = await mqtt.connectAsync(url, { clientId: `observer-${gw}`, clean: true });
  cleanup(() => observer.endAsync());
  observer.on('error', () => {});
  const seen: Seen[] = [];
  observer.on('message', (topic, payload) => {
    const kind = topic.endsWith('/events/batch') ? 'batch' : 'events';
    const types = (eventsOfMessage(kind, payload) as { type: string }[]).map((e) => e.type);
    seen.push({ topic, header: payload[0]!, types });
  });
  await observer.subscribeAsync([`village/${gw}/events/#`, `village/${gw}/health`], { qos: 1 });
  const sub = await new CountySubscriber({ url, clientId: `county-${gw}` }).start();
  cleanup(() => sub.stop());
  const dir = tempDir();
  const config = testConfig(url, dir, {
    gateway: { id: gw },
    health: { intervalSec: 1 },
    mqtt: { wire: { format: 'compact', compression: 'deflate-dict1', lingerMs: 300, health } },
  });
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  const check = new DeliveryCheck(sub).watch(agent);
  await agent.start();
  cleanup(() => agent.stop());
  for (let i = 0; i < 30; i++) {
    await agent.emit({ deviceId: `t${i % 3}`, type: 'sensor.telemetry', priority: 'normal', data: { tempC: i } });
    await new Promise((r) => setTimeout(r, 100));
  }
  const healthSeen = () => [...sub.events.values()].filter((e) => e.type === 'gateway.health').length;
  await waitUntil(() => healthSeen() >= 3, 10_000, 'three health events at the county');
  await check.expectAllDelivered();
  return { seen, healthSeen: healthSeen() };
}

describe('health in the compact batches (mqtt.wire.health: batch)', () => {
  it('goes in deflate-dict1 batches with the readings, and nothing on <prefix>/health', async () => {
    const { seen, healthSeen } = await run('gw-health-batch', 'batch');
    expect(healthSeen).toBeGreaterThanOrEqual(3);
    expect(seen.filter((s) => s.topic.endsWith('/health'))).toEqual([]);
    const batches = seen.filter((s) => s.topic === 'village/gw-health-batch/events/batch');
    expect(batches.every((b) => b.header === HEADER_BYTE['deflate-dict1'])).toBe(true);
    // Health shares batches with the readings rather than going alone.
    expect(batches.some((b) => b.types.includes('gateway.health') && b.types.includes('sensor.telemetry'))).toBe(true);
  }, 30_000);

  it('by default (topic) goes alone as JSON on <prefix>/health, never in a batch', async () => {
    const { seen } = await run('gw-health-topic', 'topic');
    const onTopic = seen.filter((s) => s.topic === 'village/gw-health-topic/health');
    expect(onTopic.length).toBeGreaterThanOrEqual(3);
    expect(onTopic.every((s) => s.types.length === 1 && s.types[0] === 'gateway.health')).toBe(true);
    expect(seen.filter((s) => s.topic.endsWith('/events/batch') && s.types.includes('gateway.health'))).toEqual([]);
  }, 30_000);
});
