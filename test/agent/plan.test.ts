/**
 * `plan` against a measured run: a real agent (synthetic telemetry, health) through a byte
 * counting pipe to Mosquitto, bytes counted both ways in a steady window, compared with what
 * the plan predicts for the same config and the same length of time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { planConfig } from '../../agent/plan.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { CountingPipe, hostPort } from '../../scripts/bench/counting-pipe.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { testConfig } from '../helpers/agent-config.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const MONTH_SEC = 30 * 86400;
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker({ needsMosquitto: true });
});
afterAll(async () => broker.dispose());

/** Bytes a second on the wire in a steady window, and what the plan says for the same config. */
async function measure(gw: string, wire: Record<string, unknown>) {
  const dir = tempDir();
  const pipe = new CountingPipe(hostPort(broker.url));
  const url = await pipe.start();
  const config = testConfig(url, dir, {
    gateway: { id: gw },
    health: { intervalSec: 1 },
    devices: [
      {
        id: 'meter',
        driver: 'synthetic',
        rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: 20 },
        telemetryBytes: 64,
      },
    ],
    mqtt: { protocolVersion: 5, keepaliveSec: 3600, wire },
  });
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  let stored = 0;
  agent.observe.onStored((evs) => (stored += evs.length));
  await agent.start();
  await new Promise((r) => setTimeout(r, 2500)); // past the connect, the birth and the first batches
  const [b0, t0, s0] = [pipe.total, performance.now(), stored];
  await new Promise((r) => setTimeout(r, 8000));
  const [b1, t1, s1] = [pipe.total, performance.now(), stored];
  await agent.stop();
  await pipe.stop();
  const measured = (b1 - b0) / ((t1 - t0) / 1000);
  const plan = planConfig(config);
  // The events the run really made: timers on a loaded machine fall behind the configured rate,
  // so the plan's telemetry is scaled to what was made (health comes by the clock, unscaled).
  const rate = (s1 - s0) / ((t1 - t0) / 1000);
  const plannedRate = plan.eventsPerMonth / MONTH_SEC;
  const isHealth = (r: { type: string }) => r.type === 'gateway.health';
  const healthRate = plan.rows.filter(isHealth).reduce((n, r) => n + r.eventsPerMonth, 0) / MONTH_SEC;
  const scale = (rate - healthRate) / (plannedRate - healthRate);
  const planned = plan.rows.reduce((b, r) => b + r.wireBytes * (isHealth(r) ? 1 : scale), 0) / MONTH_SEC;
  return { measured, planned, plan, rate, plannedRate, scale };
}

describe('village-gateway plan', () => {
  it('predicts a measured run within 25%, as json and compact', async () => {
    const json = await measure('gw-plan-json', {});
    const compact = await measure('gw-plan-compact', { format: 'compact', compression: 'deflate', lingerMs: 1000 });
    const err = (m: { measured: number; planned: number }) => m.planned / m.measured - 1;
    console.log(
      `plan vs measured, bytes/s: json ${json.planned.toFixed(0)} vs ${json.measured.toFixed(0)} (${(err(json) * 100).toFixed(1)}%), ` +
        `compact ${compact.planned.toFixed(0)} vs ${compact.measured.toFixed(0)} (${(err(compact) * 100).toFixed(1)}%); ` +
        `events/s planned ${json.plannedRate.toFixed(1)}, made ${json.rate.toFixed(1)} and ${compact.rate.toFixed(1)}`,
    );
    // A run that made far fewer events than configured says little about the plan.
    expect(Math.min(json.scale, compact.scale), 'events made / configured').toBeGreaterThan(0.5);
    expect(Math.abs(err(json))).toBeLessThan(0.25);
    expect(Math.abs(err(compact))).toBeLessThan(0.25);
    expect(compact.plan.batchEvents).toBe(20);
    expect(compact.measured).toBeLessThan(json.measured / 3);
  }, 60_000);

  it('predicts a measured run within 25% with the dictionary and health in the batches', async () => {
    const dict = await measure('gw-plan-dict', {
      format: 'compact',
      compression: 'deflate-dict1',
      lingerMs: 1000,
      health: 'batch',
    });
    const err = dict.planned / dict.measured - 1;
    console.log(
      `plan vs measured, bytes/s: deflate-dict1 + health in batches ${dict.planned.toFixed(0)} vs ${dict.measured.toFixed(0)} (${(err * 100).toFixed(1)}%)`,
    );
    expect(dict.scale, 'events made / configured').toBeGreaterThan(0.5);
    expect(Math.abs(err)).toBeLessThan(0.25);
    expect(dict.plan.rows.find((r) => r.type === 'gateway.health')?.how).toMatch(/^compact, ~\d+ a batch$/);
  }, 60_000);

  it("estimates the issue's modest village at ~480 MB a month as JSON, and compact at under 0.15 of it", () => {
    const sensors = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`${1001 + i}`, { id: `t${i + 1}`, role: 'sensor' }]),
    );
    const config = gatewayConfigSchema.parse({
      version: 1,
      gateway: { id: 'qingshan-village-03' },
      dataDir: '/x',
      mqtt: {
        url: 'mqtt://h',
        topicPrefix: 'county/qingshan/village/qingshan-village-03',
        wire: { format: 'compact' },
      },
      health: { intervalSec: 300 },
      devices: [
        { id: 'rf', driver: 'serial', path: '/dev/null', profile: 'rtl433-json', sensors },
        {
          id: 'doors',
          driver: 'serial',
          path: '/dev/null',
          profile: 'rtl433-json',
          sensors: { '1': { id: 'granary-door', role: 'door' }, '2': { id: 'school-door', role: 'door' } },
        },
      ],
    });
    const plan = planConfig(config, {
      doorOpeningsPerDay: 12, // 2 doors x 12 openings x 2 events: ~50 door events a day
      pressesPerDay: 0,
      readingsPerMin: 1,
      cameraAlarmsPerDay: 0,
      inputChangesPerDay: 0,
      alarmPicturesPerDay: 0,
      pictureBytes: 50_000,
    });
    const readings = plan.rows.find((r) => r.type === 'sensor.reading')!;
    expect(readings.eventsPerMonth).toBe(20 * 60 * 24 * 30);
    expect(plan.batchEvents).toBe(20);
    expect(plan.jsonBytes / 1e6).toBeGreaterThan(350);
    expect(plan.jsonBytes / 1e6).toBeLessThan(500);
    expect(readings.wireBytes / readings.jsonBytes).toBeLessThan(0.15);
  });
});
