/**
 * The weak-link lab's rig for the weaklink benchmarks (weaklink.ts, weaklink-media.ts): an
 * agent with the example config's MQTT settings and a village's load (5 telemetry events a
 * second) behind a lab link to a real Mosquitto, and alarms pressed 1-2 s apart, timed from the
 * press (agent.emit) to the county subscriber's arrival, both on this machine's clock.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import type { CountySubscriber } from '../county-subscriber.js';
import { percentile } from '../stats.js';
import type { ProfileName } from '../weak-link/profiles.js';
import { WeakLink } from '../weak-link/weak-link.js';
import type { DeviceInput } from './camera-fleet.js';
import { benchDir, PANIC_PRESS, until } from './fixtures.js';
import { result, type BenchResult } from './result.js';

export const VILLAGE_RATE = 5; // telemetry events a second
const PRESSES = 20;

export interface Rig {
  agent: Agent;
  link: WeakLink;
  dir: string;
  telemetry: NodeJS.Timeout | null;
}

/** The example config's MQTT settings (config/gateway.example.yaml): compact batches, a 60 s linger. */
function villageAgent(url: string, id: string, devices: DeviceInput[]): { agent: Agent; dir: string } {
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
    devices,
  });
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  return { agent, dir };
}

let reading = 0;
export const telemetryEvent = () => ({
  deviceId: `sensor-${reading % 20}`,
  type: 'sensor.telemetry' as const,
  priority: 'normal' as const,
  data: { n: reading++, tempC: Math.round(150 + Math.random() * 100) / 10, humidity: Math.round(Math.random() * 100) },
});

/** An agent of the example village (and `devices`, cameras say) behind the lab's link to the broker, not started. */
export async function rig(
  brokerPort: number,
  profile: ProfileName,
  id: string,
  devices: DeviceInput[] = [],
): Promise<Rig> {
  const link = await WeakLink.start({ targetPort: brokerPort, profile, schedule: false });
  const { agent, dir } = villageAgent(link.url, id, devices);
  return { agent, link, dir, telemetry: null };
}

export function startTelemetry(r: Rig): void {
  r.telemetry = setInterval(() => void r.agent.emit(telemetryEvent()), 1000 / VILLAGE_RATE);
}

export async function close(r: Rig): Promise<void> {
  if (r.telemetry) clearInterval(r.telemetry);
  await r.agent.stop();
  await r.link.stop();
  rmSync(r.dir, { recursive: true, force: true });
}

/**
 * Presses alarms 1-2 s apart (random: no phase lock with batches) while `more()`; latencies in ms.
 * `pressed` hears of each press as it lands (the trace lines them up with the wire's queue).
 */
export async function pressAlarms(
  r: Rig,
  sub: CountySubscriber,
  more: () => boolean,
  pressed: (atMs: number, latencyMs: number) => void = () => {},
): Promise<number[]> {
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
    pressed(t0, latencies.at(-1)!);
  }
  sub.off('event', onEvent);
  return latencies;
}

/** Presses on edge-2g with the village's telemetry and no backlog: weaklink.alarm.p95.steady's latencies. */
export async function steadyPresses(brokerPort: number, sub: CountySubscriber): Promise<number[]> {
  const steady = await rig(brokerPort, 'edge-2g', 'wl-steady');
  try {
    await steady.agent.start();
    await until(() => steady.agent.observe.link().up, 60_000, 'the uplink');
    startTelemetry(steady);
    return await pressAlarms(steady, sub, () => true);
  } finally {
    await close(steady);
  }
}

export const p95 = (v: number[]): number => percentile(v, 95)!;

export const steadyRow = (steadyMs: number[]): BenchResult =>
  result('weaklink.alarm.p95.steady', p95(steadyMs), 'ms', undefined, {
    note: `edge-2g, ${steadyMs.length} presses, village load ${VILLAGE_RATE}/s; max ${Math.max(...steadyMs)} ms`,
  });
