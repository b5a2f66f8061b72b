/**
 * Drain benchmarks against a real Mosquitto, each compared with mqtt.raw (a bare mqtt.js
 * pipelined QoS 1 publish loop, same window, same broker, same payloads) in the same run:
 * - drain.qos1: one event per message from a 100k backlog, delete on PUBACK
 * - drain.batched: the same backlog in batches
 * - drain.batched.compact: the same as compact + deflate batches (what the codec costs in CPU)
 */
import { rmSync } from 'node:fs';
import mqtt from 'mqtt';
import pino from 'pino';
import { Outbox } from '../../agent/outbox/outbox.js';
import { Uplink } from '../../agent/uplink/uplink.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { benchDir, eventSource, outboxConfig } from './fixtures.js';
import { medianOf, result, type BenchResult } from './result.js';

const BACKLOG = 100_000;
const WINDOW = 20;

export async function prefill(dir: string, n: number): Promise<void> {
  const ob = new Outbox({ dir, config: outboxConfig() });
  const make = eventSource(dir);
  for (let i = 0; i < n; i += 5000) {
    const acks: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 5000); j++) acks.push(ob.put(make('normal', j)));
    await Promise.all(acks);
  }
  ob.close();
}

async function drainRun(url: string, maxEvents: number, wire: Record<string, unknown> = {}): Promise<number> {
  const dir = benchDir('drain');
  await prefill(dir, BACKLOG);
  const outbox = new Outbox({ dir, config: outboxConfig() });
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'bench-gw' },
    dataDir: dir,
    mqtt: {
      url,
      protocolVersion: 5,
      clientId: `bench-${maxEvents}-${Date.now()}`,
      inflightWindow: WINDOW,
      batch: { maxEvents, maxBytes: '1MiB' },
      replay: { messagesPerSec: 0 },
      wire,
    },
  }).mqtt;
  const uplink = new Uplink({
    config,
    baseDir: dir,
    gatewayId: 'bench-gw',
    identity: { bootId: '00000000-0000-4000-8000-000000000000', version: 'bench', configHash: 'bench' },
    outbox,
    logger: pino({ level: 'silent' }),
  });
  const t0 = performance.now();
  uplink.start();
  while (outbox.size > 0) await new Promise((r) => setTimeout(r, 5));
  const rate = BACKLOG / ((performance.now() - t0) / 1000);
  await uplink.stop();
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function mqttRaw(url: string): Promise<number> {
  const dir = benchDir('raw');
  const make = eventSource(dir);
  const payloads = Array.from({ length: BACKLOG }, (_, i) => JSON.stringify(make('normal', i)));
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clientId: `bench-raw-${Date.now()}`,
    clean: false,
  });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let done = 0;
    const send = () => {
      const i = next++;
      client.publish('village/bench-gw/events', payloads[i]!, { qos: 1 }, (err) => {
        if (err) return reject(err);
        done += 1;
        if (next < BACKLOG) send();
        else if (done === BACKLOG) resolve();
      });
    };
    for (let w = 0; w < WINDOW; w++) send();
  });
  const rate = BACKLOG / ((performance.now() - t0) / 1000);
  await client.endAsync();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

export async function drainBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('drain benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  try {
    const raw = await medianOf(3, () => mqttRaw(broker.url));
    const qos1 = await medianOf(3, () => drainRun(broker.url, 1));
    const batched = await medianOf(3, () => drainRun(broker.url, 100));
    // A backlog drains in full batches, so the linger never waits: this is the codec's CPU cost.
    const compact = await medianOf(3, () =>
      drainRun(broker.url, 100, { format: 'compact', compression: 'deflate', lingerMs: 60_000 }),
    );
    return [
      result('mqtt.raw', raw, 'msgs/s', undefined, { note: `window ${WINDOW}, QoS 1, Mosquitto on loopback` }),
      result(
        'drain.qos1',
        qos1,
        'events/s',
        { name: 'mqtt.raw', value: raw },
        { goal: 'ratio >= 0.8', note: `${BACKLOG} backlog, 1 event/message, delete on PUBACK` },
      ),
      result(
        'drain.batched',
        batched,
        'events/s',
        { name: 'mqtt.raw', value: raw },
        { goal: 'ratio >= 5', note: 'batches of up to 100 events' },
      ),
      result(
        'drain.batched.compact',
        compact,
        'events/s',
        { name: 'drain.batched', value: batched },
        { note: 'the same as compact + deflate batches (mqtt.wire.format: compact)' },
      ),
    ];
  } finally {
    await broker.dispose();
  }
}
