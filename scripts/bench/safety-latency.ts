/**
 * The safety loop's latency, against real peers:
 * - alarm.siren.latency.p99: a simulated Modbus TCP button press -> the siren coil write seen
 *   by the simulator (poll 50 ms), idle and again while a 100k-event backlog drains (the drain
 *   runs at the shipped replay pacing, so it lasts through the presses);
 * - alarm.county.latency.p99: the same press -> its alarm.pressed at a county subscriber on
 *   loopback Mosquitto, while the backlog drains.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { CountySubscriber } from '../county-subscriber.js';
import { percentile } from '../stats.js';
import { prefill } from './drain.js';
import { benchDir } from './fixtures.js';
import { POLL_MS, SirenPanel } from './siren-panel.js';
import { result, type BenchResult } from './result.js';

const PRESSES = 40;

interface Run {
  siren: number[];
  county: number[];
  backlogAtEnd: number;
}

async function presses(brokerUrl: string, backlog: number): Promise<Run> {
  const panel = await new SirenPanel().start();
  const dir = benchDir('safety');
  if (backlog > 0) await prefill(dir, backlog);
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: `bench-safety-${backlog}` },
    dataDir: dir,
    health: { intervalSec: 3600 },
    outbox: { maxBytes: '4GiB' },
    mqtt: { url: brokerUrl, protocolVersion: 5, clientId: `bench-safety-${backlog}-${Date.now()}` }, // shipped pacing and batching
    ...panel.config(),
  });
  const county = await new CountySubscriber({
    url: brokerUrl,
    clientId: `bench-county-${backlog}-${Date.now()}`,
    root: 'village',
  }).start();
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  let pressedAt = 0;
  let arrived: (() => void) | null = null;
  const countyLat: number[] = [];
  county.on('event', (e) => {
    if (e.type === 'alarm.pressed') {
      countyLat.push(performance.now() - pressedAt);
      arrived?.();
    }
  });
  await agent.start();
  await new Promise((r) => setTimeout(r, 500));
  const sirenLat: number[] = [];
  for (let i = 0; i < PRESSES; i++) {
    await new Promise((r) => setTimeout(r, 40 + Math.random() * 60));
    const atCounty = new Promise<void>((resolve) => (arrived = resolve));
    sirenLat.push(await panel.pressForSiren((at) => (pressedAt = at)));
    await Promise.race([atCounty, new Promise((r) => setTimeout(r, 5000))]);
    panel.release();
    await new Promise((r) => setTimeout(r, POLL_MS * 3));
  }
  const backlogAtEnd = agent.observe.backlog().total.count;
  await agent.stop();
  await county.stop();
  await panel.close();
  rmSync(dir, { recursive: true, force: true });
  return { siren: sirenLat, county: countyLat, backlogAtEnd };
}

export async function safetyLatencyBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('the safety-loop benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  try {
    const idle = await presses(broker.url, 0);
    const busy = await presses(broker.url, 100_000);
    const p99 = (v: number[]) => percentile(v, 99)!;
    const note = (r: Run) => `${PRESSES} presses; p50 ${percentile(r.siren, 50)!.toFixed(1)} ms`;
    return [
      result('poll.interval', POLL_MS, 'ms'),
      result(
        'alarm.siren.latency.p99',
        p99(idle.siren),
        'ms',
        { name: 'poll.interval', value: POLL_MS },
        { goal: `value <= ${POLL_MS + 15} ms`, note: `idle; ${note(idle)}` },
      ),
      result(
        'alarm.siren.latency.p99.draining',
        p99(busy.siren),
        'ms',
        { name: 'alarm.siren.latency.p99', value: p99(idle.siren) },
        {
          goal: 'ratio <= 1.1 (unchanged while draining)',
          note: `100k backlog draining (${busy.backlogAtEnd} left after the presses); ${note(busy)}`,
        },
      ),
      result(
        'alarm.county.latency.p99',
        p99(busy.county),
        'ms',
        { name: 'poll.interval', value: POLL_MS },
        {
          goal: `value <= ${POLL_MS + 30} ms`,
          note: `press -> county subscriber on loopback Mosquitto while draining; p50 ${percentile(busy.county, 50)!.toFixed(1)} ms; ${busy.county.length}/${PRESSES} arrived`,
        },
      ),
    ];
  } finally {
    await broker.dispose();
  }
}
