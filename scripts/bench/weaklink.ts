/**
 * Weak links, end to end: an agent with the example config's MQTT settings and a village's
 * load (5 telemetry events a second), through the weak-link lab (scripts/weak-link) to a real
 * Mosquitto, and a county subscriber on the broker's side that timestamps every arrival.
 *
 * - weaklink.alarm.p95.steady: alarms pressed on edge-2g with no backlog (the link's own floor:
 *   a round trip and a bit); the baseline of
 * - weaklink.alarm.p95.draining: alarms pressed on edge-2g while a 30-minute backlog drains
 *   (goal <= 3 s).
 * - weaklink.drain: the time a 30-minute backlog takes to drain on weak-3g, against the link's
 *   raw time for the bytes the drain put on it (bytes / rate + delay; goal ratio <= 1.3).
 *
 * Time-compressed: the 30-minute backlog (9,000 events at 5 a second) is stored in seconds with
 * the link cut, then the link comes back. What the drain sends does not depend on when the
 * events were made. Latency = the press (agent.emit) to the county's arrival, both on this
 * machine's clock.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { CountySubscriber } from '../county-subscriber.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { percentile } from '../stats.js';
import { WeakLink } from '../weak-link/weak-link.js';
import type { ProfileName } from '../weak-link/profiles.js';
import { benchDir, PANIC_PRESS, until } from './fixtures.js';
import { result, type BenchResult } from './result.js';

const VILLAGE_RATE = 5; // telemetry events a second
const BACKLOG = 30 * 60 * VILLAGE_RATE;
const PRESSES = 20;

interface Rig {
  agent: Agent;
  link: WeakLink;
  dir: string;
  telemetry: NodeJS.Timeout | null;
}

/** The example config's MQTT settings (config/gateway.example.yaml): compact batches, a 60 s linger. */
function villageAgent(url: string, id: string): { agent: Agent; dir: string } {
  const dir = benchDir(`weaklink-${id}`);
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id },
    dataDir: dir,
    log: { level: 'error' },
    clock: { synced: 'always' },
    health: { intervalSec: 300 },
    mqtt: {
      url,
      protocolVersion: 5,
      keepaliveSec: 60,
      inflightWindow: 20,
      reconnect: { minMs: 1000, maxMs: 300000, jitter: 0.5 },
      batch: { maxEvents: 100, maxBytes: '64KiB' },
      replay: { messagesPerSec: 20, burst: 50 },
      wire: { format: 'compact', compression: 'deflate', lingerMs: 60000 },
    },
  });
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  return { agent, dir };
}

let reading = 0;
const telemetryEvent = () => ({
  deviceId: `sensor-${reading % 20}`,
  type: 'sensor.telemetry' as const,
  priority: 'normal' as const,
  data: { n: reading++, tempC: Math.round(150 + Math.random() * 100) / 10, humidity: Math.round(Math.random() * 100) },
});

async function rig(brokerPort: number, profile: ProfileName, id: string): Promise<Rig> {
  const link = await WeakLink.start({ targetPort: brokerPort, profile, schedule: false });
  const { agent, dir } = villageAgent(link.url, id);
  return { agent, link, dir, telemetry: null };
}

function startTelemetry(r: Rig): void {
  r.telemetry = setInterval(() => void r.agent.emit(telemetryEvent()), 1000 / VILLAGE_RATE);
}

async function close(r: Rig): Promise<void> {
  if (r.telemetry) clearInterval(r.telemetry);
  await r.agent.stop();
  await r.link.stop();
  rmSync(r.dir, { recursive: true, force: true });
}

/** A 30-minute backlog stored with the link cut; then the link is back. Resolves once the agent is connected. */
async function withBacklog(r: Rig): Promise<void> {
  r.link.cut();
  await r.agent.start();
  for (let i = 0; i < BACKLOG; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, BACKLOG - i) }, () => r.agent.emit(telemetryEvent())));
  }
  r.link.restore();
  await until(() => r.agent.observe.link().up, 600_000, 'the uplink after the cut');
}

/** Presses alarms 1-2 s apart (random: no phase lock with batches) while `more()`; latencies in ms. */
async function pressAlarms(r: Rig, sub: CountySubscriber, more: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  const arrivals = new Map<string, number>();
  const onEvent = (e: { id: string }, arrivedMs: number) => arrivals.set(e.id, arrivedMs);
  sub.on('event', onEvent);
  for (let i = 0; i < PRESSES && more(); i++) {
    await new Promise((res) => setTimeout(res, 1000 + Math.random() * 1000));
    const t0 = Date.now();
    const alarm = await r.agent.emit(PANIC_PRESS);
    await until(() => arrivals.has(alarm.id), 600_000, `alarm ${i} at the county`);
    latencies.push(arrivals.get(alarm.id)! - t0);
  }
  sub.off('event', onEvent);
  return latencies;
}

const backlogLeft = (r: Rig) => r.agent.observe.backlog().backlog.normal.count;

export async function weaklinkBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('weak-link benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  const port = Number(new URL(broker.url).port);
  const sub = await new CountySubscriber({ url: broker.url, clientId: `county-bench-${Date.now()}` }).start();
  try {
    const steady = await rig(port, 'edge-2g', 'wl-steady');
    let steadyMs: number[];
    try {
      await steady.agent.start();
      await until(() => steady.agent.observe.link().up, 60_000, 'the uplink');
      startTelemetry(steady);
      steadyMs = await pressAlarms(steady, sub, () => true);
    } finally {
      await close(steady);
    }

    const draining = await rig(port, 'edge-2g', 'wl-draining');
    let drainingMs: number[];
    let pressedOfBacklog: number;
    try {
      await withBacklog(draining);
      startTelemetry(draining);
      drainingMs = await pressAlarms(draining, sub, () => backlogLeft(draining) > 0);
      pressedOfBacklog = backlogLeft(draining);
    } finally {
      await close(draining);
    }

    const drain = await rig(port, 'weak-3g', 'wl-drain');
    let drainMs: number;
    let bytes: number;
    try {
      await withBacklog(drain);
      const t0 = performance.now();
      const before = drain.link.stats().up.forwardedBytes;
      await until(() => drain.agent.observe.backlog().total.count === 0, 1_800_000, 'the backlog to drain');
      drainMs = performance.now() - t0;
      bytes = drain.link.stats().up.forwardedBytes - before;
    } finally {
      await close(drain);
    }
    const rawMs = drain.link.rawLinkMs(bytes);
    const p95 = (v: number[]) => percentile(v, 95)!;
    return [
      result('weaklink.alarm.p95.steady', p95(steadyMs), 'ms', undefined, {
        note: `edge-2g, ${steadyMs.length} presses, village load ${VILLAGE_RATE}/s; max ${Math.max(...steadyMs)} ms`,
      }),
      result(
        'weaklink.alarm.p95.draining',
        p95(drainingMs),
        'ms',
        { name: 'weaklink.alarm.p95.steady', value: p95(steadyMs) },
        {
          goal: '<= 3000 ms',
          note: `edge-2g, ${drainingMs.length} presses while a ${BACKLOG}-event backlog drained (${pressedOfBacklog} left at the last); max ${Math.max(...drainingMs)} ms`,
        },
      ),
      result(
        'weaklink.drain',
        drainMs / 1000,
        's',
        { name: 'weaklink.drain.raw', value: rawMs / 1000 },
        {
          goal: 'ratio <= 1.3',
          note: `weak-3g, ${BACKLOG} events, ${bytes} bytes up (${(bytes / BACKLOG).toFixed(0)} B/event)`,
        },
      ),
    ];
  } finally {
    await sub.stop();
    await broker.dispose();
  }
}
