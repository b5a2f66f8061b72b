/**
 * Cameras on loopback, a real Mosquitto and the county's subscriber, no weak link: an agent
 * with 4 simulated cameras (Hikvision and Dahua in turn, heartbeats every second, pictures of
 * ~45 KB) and rounds, 150-400 ms apart at random, of:
 *
 * - a panic press (agent.emit of alarm.pressed) -> the county: the baseline of
 * - camera.event.latency.p99: an intrusion written on a camera's event stream -> the typed event
 *   at the county (the driver's parse, the mapper, the pipeline and the uplink: the ratio is
 *   what the camera path costs over a press through the same agent and broker);
 * - camera.snapshot.latency.p99: the same intrusion written -> its `camera.picture` committed
 *   (the picture fetched, checked, stored crash-safe, announced), against the baseline
 *   camera.snapshot.get.p99: a plain digest GET of the same picture from the same simulated
 *   camera by the driver's own HTTP client (ratio = the agent's overhead on the camera's time).
 *
 * Times are Date.now() on this one machine (the county subscriber stamps arrivals so).
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { CountySubscriber } from '../county-subscriber.js';
import { percentile } from '../stats.js';
import { CameraFleet } from './camera-fleet.js';
import { benchDir, PANIC_PRESS, until } from './fixtures.js';
import { result, type BenchResult } from './result.js';

const CAMERAS = 4;
const PICTURE_BYTES = 45 * 1024;
const ROUNDS = 60;

const regionOf = (e: GatewayEvent) => (e.data as { region?: unknown }).region;
const causeOf = (e: GatewayEvent) => (e.data as { cause?: { event?: string } }).cause?.event;

export async function cameraBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('the camera benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  const sub = await new CountySubscriber({ url: broker.url, clientId: `county-bench-cam-${Date.now()}` }).start();
  const fleet = await CameraFleet.start(CAMERAS, PICTURE_BYTES);
  const dir = benchDir('camera');
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'bench-camera' },
    dataDir: dir,
    log: { level: 'error' },
    clock: { synced: 'always' },
    health: { intervalSec: 3600 },
    mqtt: { url: broker.url, protocolVersion: 5, replay: { messagesPerSec: 0 } },
    devices: fleet.devices(),
  });
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  // Committed in the outbox: the intrusions by region, and their pictures by the alarm they were taken for.
  const byRegion = new Map<string, string>();
  const storedAt = new Map<string, number>();
  const pictureStored = new Map<string, number>();
  agent.observe.onStored((events) => {
    const now = Date.now();
    for (const e of events) {
      const region = regionOf(e);
      if (e.type === 'camera.intrusion' && typeof region === 'string') {
        byRegion.set(region, e.id);
        storedAt.set(e.id, now);
      }
      const cause = causeOf(e);
      if (e.type === 'camera.picture' && cause) pictureStored.set(cause, now);
    }
  });
  const arrived = new Map<string, number>();
  sub.on('event', (e, at) => arrived.set(e.id, at));
  const panicMs: number[] = [];
  const eventMs: number[] = [];
  const committedMs: number[] = [];
  const snapshotMs: number[] = [];
  const getMs: number[] = [];
  const clients = fleet.cameras.map((_, i) => fleet.client(i));
  try {
    await agent.start();
    await until(() => agent.observe.link().up && fleet.allStreaming, 30_000, 'the uplink and 4 camera streams');
    for (let i = 0; i < ROUNDS; i++) {
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
      let t0 = Date.now();
      const press = await agent.emit(PANIC_PRESS);
      await until(() => arrived.has(press.id), 30_000, `press ${i} at the county`);
      panicMs.push(arrived.get(press.id)! - t0);

      const region = `bench-${i}`;
      t0 = Date.now();
      fleet.intrusion(i, region);
      await until(() => arrived.has(byRegion.get(region) ?? ''), 30_000, `intrusion ${i} at the county`);
      const id = byRegion.get(region)!;
      eventMs.push(arrived.get(id)! - t0);
      committedMs.push(storedAt.get(id)! - t0);
      await until(() => pictureStored.has(id), 30_000, `the picture of intrusion ${i}`);
      snapshotMs.push(pictureStored.get(id)! - t0);

      const g0 = performance.now();
      const jpeg = await fleet.fetchPicture(i, clients[i % CAMERAS]!);
      getMs.push(performance.now() - g0);
      if (jpeg.length !== fleet.cameras[i % CAMERAS]!.sim.snapshots.jpeg.length) throw new Error('short picture');
    }
  } finally {
    await agent.stop();
    await fleet.close();
    await sub.stop();
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const p = (v: number[], q: number) => percentile(v, q)!;
  const spread = (v: number[]) => `p50 ${p(v, 50).toFixed(1)}, max ${Math.max(...v).toFixed(1)} ms`;
  return [
    result('camera.panic.latency.p99', p(panicMs, 99), 'ms', undefined, {
      note: `agent.emit(alarm.pressed) -> county, loopback Mosquitto, ${CAMERAS} cameras streaming; ${ROUNDS} presses; ${spread(panicMs)}`,
    }),
    result(
      'camera.event.latency.p99',
      p(eventMs, 99),
      'ms',
      { name: 'camera.panic.latency.p99', value: p(panicMs, 99) },
      {
        goal: 'value <= 50 ms (issue 19)',
        note: `intrusion written on a camera stream -> camera.intrusion at the county; ${ROUNDS} alarms over ${CAMERAS} cameras; ${spread(eventMs)}; of which written -> committed p50 ${p(committedMs, 50).toFixed(1)}, p99 ${p(committedMs, 99).toFixed(1)} ms`,
      },
    ),
    result('camera.snapshot.get.p99', p(getMs, 99), 'ms', undefined, {
      note: `digest GET of a ${PICTURE_BYTES}-byte picture from the simulated camera, driver's HTTP client; ${spread(getMs)}`,
    }),
    result(
      'camera.snapshot.latency.p99',
      p(snapshotMs, 99),
      'ms',
      { name: 'camera.snapshot.get.p99', value: p(getMs, 99) },
      {
        note: `intrusion written -> camera.picture committed (fetched, checked, stored with fsync); ${spread(snapshotMs)}`,
      },
    ),
  ];
}
