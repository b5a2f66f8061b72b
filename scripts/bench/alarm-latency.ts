/**
 * alarm.event.latency.p99: a simulated Modbus TCP input changes -> `alarm.pressed` is
 * committed in the outbox, with a 50 ms poll. The baseline is the poll interval itself: a
 * press lands anywhere in the poll cycle, so the p99 cannot be below it; the goal is the
 * interval plus 15 ms. Presses are spaced at random so they sample every phase of the cycle.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { requireProfile } from '../../config/load-profile.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { freePort } from '../brokers/free-port.js';
import { ModbusSimulator } from '../simulators/modbus-simulator.js';
import { percentile } from '../stats.js';
import { benchDir } from './fixtures.js';
import { result, type BenchResult } from './result.js';

const POLL_MS = 50;
const PRESSES = 80;

export async function alarmLatencyBenchmarks(): Promise<BenchResult[]> {
  const sim = new ModbusSimulator();
  const unit = sim.addUnit(1, requireProfile('eletechsup-r4dif08', 'modbus'));
  await sim.listenTcp(await freePort());
  const dir = benchDir('alarm');
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'bench-alarm' },
    dataDir: dir,
    health: { intervalSec: 3600 },
    mqtt: { url: 'mqtt://127.0.0.1:1' }, // no uplink: this measures capture -> durable
    buses: [{ id: 'tcp', type: 'modbus-tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 200 }],
    devices: [
      {
        id: 'panel',
        driver: 'modbus',
        bus: 'tcp',
        unitId: 1,
        profile: 'eletechsup-r4dif08',
        pollMs: POLL_MS,
        inputs: { in1: { role: 'alarm-button', id: 'panic' } },
      },
    ],
  });
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  let pressedAt = 0;
  const latencies: number[] = [];
  let committed: (() => void) | null = null;
  agent.observe.onStored((events) => {
    if (events.some((e) => e.type === 'alarm.pressed')) {
      latencies.push(performance.now() - pressedAt);
      committed?.();
    }
  });
  await agent.start();
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < PRESSES; i++) {
    await new Promise((r) => setTimeout(r, 60 + Math.random() * 90));
    const done = new Promise<void>((resolve) => (committed = resolve));
    pressedAt = performance.now();
    unit.set('in1', 1);
    await done;
    await new Promise((r) => setTimeout(r, POLL_MS * 2 + 10)); // let the release be seen
    unit.set('in1', 0);
    await new Promise((r) => setTimeout(r, POLL_MS * 2 + 10));
  }
  await agent.stop();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  const p99 = percentile(latencies, 99)!;
  return [
    result('poll.interval', POLL_MS, 'ms'),
    result(
      'alarm.event.latency.p99',
      p99,
      'ms',
      { name: 'poll.interval', value: POLL_MS },
      {
        goal: `value <= ${POLL_MS + 15} ms (poll + 15)`,
        note: `Modbus TCP input -> alarm.pressed committed (fsync); ${PRESSES} presses; p50 ${percentile(latencies, 50)!.toFixed(1)} ms`,
      },
    ),
  ];
}
