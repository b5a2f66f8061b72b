/**
 * `mqtt.topicAliases` (MQTT 5, on by default): through a byte-counting pipe to a real Mosquitto,
 * a topic goes whole once and as an alias after, so each message is about the topic's length
 * smaller; the county subscriber still sees the whole topic and every event.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { CountingPipe, hostPort } from '../../scripts/bench/counting-pipe.js';
import { startBroker } from '../helpers/broker.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck } from '../helpers/delivery.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const EVENTS = 30;

/** Bytes the gateway sent per event, for EVENTS door events each alone on `<prefix>/events`. */
async function upBytesPerEvent(topicAliases: boolean): Promise<{ perEvent: number; topic: string }> {
  const broker = await startBroker({ needsMosquitto: true }); // aedes speaks MQTT 3.1.1 only
  cleanup(() => broker.dispose());
  const pipe = new CountingPipe(hostPort(broker.url));
  const url = await pipe.start();
  cleanup(() => pipe.stop());
  const gw = `gw-alias-${topicAliases}`;
  const prefix = `county/qingshan/village/${gw}`;
  const sub = await new CountySubscriber({
    url: broker.url,
    clientId: `county-${gw}`,
    root: 'county/qingshan/village',
  }).start();
  cleanup(() => sub.stop());
  const dir = tempDir();
  const config = testConfig(url, dir, {
    gateway: { id: gw },
    mqtt: { protocolVersion: 5, topicPrefix: prefix, topicAliases },
  });
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  const check = new DeliveryCheck(sub).watch(agent);
  await agent.start();
  cleanup(() => agent.stop());
  await waitUntil(() => sub.events.size > 0, 10_000, 'gateway.started at the county');
  const before = pipe.up;
  const ids: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const e = await agent.emit({
      deviceId: 'door-1',
      type: 'door.opened',
      priority: 'high',
      data: { input: '1', active: true },
    });
    ids.push(e.id);
    await waitUntil(() => sub.events.has(e.id), 5000, `event ${i} at the county`); // one at a time: alone on the wire
  }
  const perEvent = (pipe.up - before) / EVENTS;
  const arrived = [...sub.events.values()].filter((e) => ids.includes(e.id));
  expect(arrived).toHaveLength(EVENTS);
  await check.expectAllDelivered();
  return { perEvent, topic: `${prefix}/events` };
}

describe('MQTT 5 topic aliases', () => {
  it('each message after the first is about its topic smaller, and the county sees everything', async () => {
    const off = await upBytesPerEvent(false);
    const on = await upBytesPerEvent(true);
    // The topic (48 bytes here) is replaced by a 3-byte alias property; the first message still carries it.
    expect(off.perEvent - on.perEvent).toBeGreaterThan(off.topic.length - 10);
  }, 60_000);
});
