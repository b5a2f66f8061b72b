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
    const live = UNITS.filter((x) => x !== 5);
    /** Each live unit's polls and median interval over `ms`, from now. */
    const window = async (ms: number) => {
      for (const u of UNITS) sim.unit(u).pollTimes.length = 0;
      await new Promise((r) => setTimeout(r, ms));
      return new Map(
        live.map((u) => {
          const times = sim.unit(u).pollTimes;
          return [u, { perSec: (times.length / ms) * 1000, p50: percentile(intervalsOf(times), 50)! }];
        }),
      );
    };
    // The baseline, in the same run: all eight alive (a loaded machine slows both windows alike).
    const before = await window(2000);
    sim.unit(5).dead = true;
    await rig.waitFor((e) => e.deviceId === 'unit-5' && e.type === 'device.offline', 5000, 'unit 5 offline');
    const bus = { describe: () => rig.agent.observe.bus('rs485')! };
    const timeoutsBefore = bus.describe().timeouts;
    const after = await window(4000); // the window the poll intervals and probes below are measured over
    const probes = bus.describe().timeouts - timeoutsBefore;
    const report = live.map((u) => {
      const [b, a] = [before.get(u)!, after.get(u)!];
      return { u, rate: a.perSec / b.perSec, p50: `${Math.round(b.p50)}->${Math.round(a.p50)}` };
    });
    console.log(
      `RTU, 1 dead unit of 8, poll ${POLL_MS} ms, timeout 150 ms: ${JSON.stringify(report)}; dead unit probed ${probes}x in 4 s`,
    );
    // A dead unit polled every cycle adds its 150 ms timeout to each ~100 ms cycle: the live
    // units' poll rate falls to about 0.4 of the baseline and their median interval grows 2.5x.
    for (const r of report) {
      expect(r.rate, `unit ${r.u} poll rate, dead window / baseline`).toBeGreaterThan(0.7);
      expect(after.get(r.u)!.p50, `unit ${r.u} median interval`).toBeLessThanOrEqual(before.get(r.u)!.p50 * 1.4);
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
