/**
 * Modbus RTU over a real serial line: modbus-serial's ServerSerial on one end of a socat
 * pty pair, the agent on the other. Eight units share the bus.
 */
import { describe, expect, it } from 'vitest';
import { ModbusSimulator } from '../../scripts/simulators/modbus-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import { percentile } from '../../scripts/stats.js';
import { testConfig } from '../helpers/agent-config.js';
import { AgentRig, builtinProfile } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { startChecked } from '../helpers/delivery.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

const POLL_MS = 100;
const UNITS = [1, 2, 3, 4, 5, 6, 7, 8];

async function rtuRig(timeoutMs = 150) {
  const pty = await new PtyPair('rs485').start();
  cleanup(() => pty.dispose());
  const sim = new ModbusSimulator();
  for (const id of UNITS) sim.addUnit(id, builtinProfile('eletechsup-r4dif08'));
  await sim.listenSerial(pty.a);
  cleanup(() => sim.close());
  const dir = tempDir();
  const config = testConfig(brokerRef.current.url, dir, {
    buses: [{ id: 'rs485', type: 'modbus-rtu', path: pty.b, baudRate: 9600, timeoutMs }],
    devices: UNITS.map((u) => ({
      id: `unit-${u}`,
      driver: 'modbus',
      bus: 'rs485',
      unitId: u,
      profile: 'eletechsup-r4dif08',
      pollMs: POLL_MS,
      offlineAfter: 2,
      inputs: { in1: { role: 'alarm-button', id: `panic-${u}` } },
    })),
  });
  const rig = new AgentRig(config, dir);
  await startChecked(rig.agent, brokerRef.current.url, cleanup);
  return { pty, sim, rig };
}

const intervalsOf = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

describe('Modbus RTU over a pty pair', () => {
  it('keeps the poll interval of seven units while the eighth is dead', { timeout: 30_000 }, async () => {
    const { sim, rig } = await rtuRig();
    await waitUntil(() => sim.unit(1).pollTimes.length > 3, 5000, 'polls on the bus');
    sim.unit(5).dead = true;
    await rig.waitFor((e) => e.deviceId === 'unit-5' && e.type === 'device.offline', 5000, 'unit 5 offline');
    for (const u of UNITS) sim.unit(u).pollTimes.length = 0;
    const bus = { describe: () => rig.agent.observe.bus('rs485')! };
    const timeoutsBefore = bus.describe().timeouts;
    await new Promise((r) => setTimeout(r, 4000)); // the window the poll intervals and probes below are measured over
    const probes = bus.describe().timeouts - timeoutsBefore;
    const report: Record<number, { polls: number; p50: number; p90: number }> = {};
    for (const u of UNITS.filter((x) => x !== 5)) {
      const iv = intervalsOf(sim.unit(u).pollTimes);
      report[u] = { polls: iv.length + 1, p50: Math.round(percentile(iv, 50)!), p90: Math.round(percentile(iv, 90)!) };
    }
    console.log(
      `RTU, 1 dead unit of 8, poll ${POLL_MS} ms, timeout 150 ms: ${JSON.stringify(report)}; dead unit probed ${probes}x in 4 s`,
    );
    for (const [u, r] of Object.entries(report)) {
      expect(r.p50, `unit ${u} median interval`).toBeLessThanOrEqual(POLL_MS * 1.2);
      // No p90 bound: on a shared 2-core machine (load 9-11 while others test) the p90 moved
      // between 110 and 320 ms on the code before and after the field-fault changes alike. A
      // dead unit polled every cycle (a cycle then holds its 150 ms timeout plus seven replies)
      // fails the median, the poll count and the probe count; the p90 is printed for the record.
      expect(r.polls, `unit ${u} polls in 4 s`).toBeGreaterThanOrEqual(30);
    }
    // The dead unit is only re-probed, with backoff (1 s, 2 s, ...): a few tries in 4 s, not 40.
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(4);
    // Live units still report presses.
    sim.unit(3).set('in1', 1);
    await rig.waitFor((e) => e.deviceId === 'panic-3' && e.type === 'alarm.pressed', 2000, 'a press on unit 3');
  });

  it(
    'survives an unplug: offline events, the port reopened when it returns, events resume',
    { timeout: 30_000 },
    async () => {
      const { pty, sim, rig } = await rtuRig();
      await waitUntil(() => sim.unit(2).pollTimes.length > 3, 5000, 'polls on the bus');
      await sim.close();
      await pty.stop(); // unplug the adapter
      await rig.waitFor((e) => e.deviceId === 'unit-2' && e.type === 'device.offline', 8000, 'offline after unplug');
      await pty.start(); // plug it back in (same paths, as /dev/serial/by-id gives)
      const back = new ModbusSimulator();
      for (const id of UNITS) back.addUnit(id, builtinProfile('eletechsup-r4dif08'));
      await back.listenSerial(pty.a);
      cleanup(() => back.close());
      await rig.waitFor((e) => e.deviceId === 'unit-2' && e.type === 'device.online', 40_000, 'online after replug');
      back.unit(2).set('in1', 1);
      await rig.waitFor((e) => e.deviceId === 'panic-2' && e.type === 'alarm.pressed', 5000, 'events after replug');
      const bus = { describe: () => rig.agent.observe.bus('rs485')! };
      expect(bus.describe().reconnects).toBeGreaterThanOrEqual(1);
    },
  );
});
