/**
 * Bytes on the wire per event for village telemetry (`--only bytes`), through a real
 * Mosquitto and a byte-counting pipe in front of it (both directions: PUBLISH, PUBACK, pings,
 * all MQTT framing; TCP/IP headers are below what the pipe sees).
 *
 * The village: 20 radio sensors reading once a minute (rtl_433-style records, fixed sensor
 * ids, varying readings), 50 door events a day (high), health every 5 minutes. Time is
 * compressed 300x: 100 readings/s, a door event every ~6 s, health every second, and the
 * linger shrunk by the same factor (60 s -> 200 ms). What sets the bytes is how many events a
 * batch holds, which is rate x linger, and that product is the village's (~20).
 *
 *   weaklink.bytes_per_event        the recommended settings: compact + deflate-dict1 (the
 *                                   preset dictionary), health in the batches, linger 60 s
 *                                   (scaled), MQTT 5 with topic aliases
 *   weaklink.bytes_per_event.naive  the baseline: JSON, one event a message, no topic aliases
 *   weaklink.bytes_per_event.deflate_health_batch  the first without the dictionary (plain deflate)
 *   weaklink.bytes_per_event.deflate before: compact + deflate, health alone as JSON on /health,
 *                                   no topic aliases (the 0.137)
 *   weaklink.bytes_per_event.brotli the same with brotli (the 0.128)
 *   wire.encode.*                   CPU per event of building a 100-event message (the v1 JSON
 *                                   batch, compact + deflate, compact + brotli)
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { encodeBatchPayload } from '../../core/contracts/wire-payload.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { CountingPipe, hostPort } from './counting-pipe.js';
import { benchDir } from './fixtures.js';
import { result, type BenchResult } from './result.js';
import { villageReading, VILLAGE_SENSORS } from './village-reading.js';

const SCALE = 300;
const READINGS_PER_SEC = (VILLAGE_SENSORS / 60) * SCALE; // 100
const DOOR_EVENTS_PER_SEC = (50 / 86400) * SCALE;
const HEALTH_SEC = 300 / SCALE; // 1
const LINGER_MS = 60_000 / SCALE; // 200
const WARMUP_MS = 3000;
const WINDOW_MS = 20_000;
const GATEWAY = 'qingshan-village-03';

interface Run {
  bytesPerEvent: number;
  events: number;
  messages: number;
}

async function villageRun(brokerUrl: string, name: string, mqttOver: Record<string, unknown>): Promise<Run> {
  const dir = benchDir(`bytes-${name}`);
  const pipe = new CountingPipe(hostPort(brokerUrl));
  const url = await pipe.start();
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: GATEWAY },
    dataDir: dir,
    log: { level: 'warn' },
    clock: { synced: 'always' },
    health: { intervalSec: HEALTH_SEC },
    mqtt: {
      url,
      protocolVersion: 5,
      clientId: `${GATEWAY}-${name}-${Date.now()}`,
      topicPrefix: `county/qingshan/village/${GATEWAY}`,
      replay: { messagesPerSec: 0 },
      ...mqttOver,
    },
  });
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  let stored = 0;
  agent.observe.onStored((evs) => (stored += evs.length));
  await agent.start();
  let i = 0;
  let doorEvents = 0;
  // Events due by the elapsed time, emitted every tick: a timer that falls behind on a busy machine
  // must not lower the rate (the events a batch holds are what is measured).
  const t0 = performance.now();
  const ticker = setInterval(() => {
    const elapsedSec = (performance.now() - t0) / 1000;
    while (i < elapsedSec * READINGS_PER_SEC) void agent.emit(villageReading(i++)).catch(() => {});
    while (doorEvents < elapsedSec * DOOR_EVENTS_PER_SEC) {
      const open = doorEvents++ % 2 === 0;
      void agent
        .emit({
          deviceId: 'granary-door',
          type: open ? 'door.opened' : 'door.closed',
          priority: 'high',
          data: { input: '1', active: open },
        })
        .catch(() => {});
    }
  }, 20);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const [b0, s0, m0] = [pipe.total, stored, agent.observe.link().publishedMessages];
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const [b1, s1, m1] = [pipe.total, stored, agent.observe.link().publishedMessages];
  clearInterval(ticker);
  await agent.stop();
  await pipe.stop();
  rmSync(dir, { recursive: true, force: true });
  return { bytesPerEvent: (b1 - b0) / (s1 - s0), events: s1 - s0, messages: m1 - m0 };
}

/** µs per event to build one message of 100 village events. */
function encodeCost(): Record<'json' | 'deflate' | 'brotli', number> {
  let t = Date.UTC(2026, 10, 27, 8);
  const bodies = Array.from({ length: 100 }, (_, i) => {
    t += 3000;
    const r = villageReading(i);
    return JSON.stringify({
      id: `${t
        .toString(16)
        .padStart(12, '0')
        .replace(/^(.{8})(.{4})$/, '$1-$2')}-7abc-8def-${String(i).padStart(12, '0')}`,
      seq: 1_000_000 + i,
      bootId: '0190a1b2-0000-4000-8000-000000000001',
      gatewayId: GATEWAY,
      ...r,
      ts: new Date(t).toISOString(),
      monoMs: 86_400_000 + i * 3000.123,
      clockSynced: true,
      data: r.data,
    });
  });
  const time = (fn: () => unknown) => {
    for (let k = 0; k < 50; k++) fn(); // warm
    const n = 500;
    const t0 = performance.now();
    for (let k = 0; k < n; k++) fn();
    return ((performance.now() - t0) * 1000) / (n * bodies.length);
  };
  return {
    json: time(() => Buffer.from(`{"v":1,"gatewayId":"${GATEWAY}","events":[${bodies.join(',')}]}`)),
    deflate: time(() => encodeBatchPayload(GATEWAY, bodies, 'deflate')),
    brotli: time(() => encodeBatchPayload(GATEWAY, bodies, 'brotli')),
  };
}

export async function bytesBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('the bytes benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  try {
    // The baseline and the rows "before" as they were: no topic aliases (mqtt.topicAliases came with the dictionary).
    const naive = await villageRun(broker.url, 'naive', {
      wire: { format: 'json' },
      batch: { maxEvents: 1 },
      topicAliases: false,
    });
    const wire = (compression: string, health: string, topicAliases = true) => ({
      wire: { format: 'compact', compression, lingerMs: LINGER_MS, health },
      topicAliases,
    });
    const dict = await villageRun(broker.url, 'dict', wire('deflate-dict1', 'batch'));
    const deflateBatch = await villageRun(broker.url, 'deflate-batch', wire('deflate', 'batch'));
    const compact = await villageRun(broker.url, 'compact', wire('deflate', 'topic', false));
    const brotli = await villageRun(broker.url, 'brotli', wire('brotli', 'topic', false));
    const cost = encodeCost();
    const base = { name: 'weaklink.bytes_per_event.naive', value: naive.bytesPerEvent };
    const per = (r: Run) =>
      `${r.events} events in ${r.messages} messages (${(r.events / r.messages).toFixed(1)} a message)`;
    const village = `village x${SCALE}: ${VILLAGE_SENSORS} sensors 1/min, 50 door events/day, health 5 min; linger ${LINGER_MS} ms = 60 s`;
    return [
      result('weaklink.bytes_per_event.naive', naive.bytesPerEvent, 'B/event', undefined, {
        note: `JSON, one event a message, no topic aliases; ${per(naive)}; ${village}`,
      }),
      result('weaklink.bytes_per_event', dict.bytesPerEvent, 'B/event', base, {
        goal: 'ratio <= 0.10',
        note: `compact + deflate-dict1, health in the batches, topic aliases; ${per(dict)}`,
      }),
      result('weaklink.bytes_per_event.deflate_health_batch', deflateBatch.bytesPerEvent, 'B/event', base, {
        note: `the same without the dictionary (plain deflate); ${per(deflateBatch)}`,
      }),
      result('weaklink.bytes_per_event.deflate', compact.bytesPerEvent, 'B/event', base, {
        note: `before: compact + deflate, health alone on /health, no topic aliases; ${per(compact)}`,
      }),
      result('weaklink.bytes_per_event.brotli', brotli.bytesPerEvent, 'B/event', base, {
        note: `before, with brotli (quality 4); ${per(brotli)}`,
      }),
      result('wire.encode.json', cost.json, 'µs/event', undefined, { note: '100-event v1 JSON batch' }),
      result(
        'wire.encode.deflate',
        cost.deflate,
        'µs/event',
        { name: 'wire.encode.json', value: cost.json },
        {
          note: '100-event compact batch: parse, compact, check, deflate',
        },
      ),
      result(
        'wire.encode.brotli',
        cost.brotli,
        'µs/event',
        { name: 'wire.encode.json', value: cost.json },
        {
          note: '100-event compact batch with brotli quality 4',
        },
      ),
    ];
  } finally {
    await broker.dispose();
  }
}
