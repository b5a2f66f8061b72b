/**
 * Field faults on a Modbus bus, against modbus-serial's own servers: a unit that answers
 * every request with a Modbus exception, a unit that answers late (beyond the timeout, and
 * just under it), and noise on an RS-485 line. The agent must not crash, must keep polling
 * the healthy units, must report device.offline / device.online, and every event it
 * committed must reach the county.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/kernel/errors.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { ModbusSimulator } from '../../scripts/simulators/modbus-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import { testConfig } from '../helpers/agent-config.js';
import type { BusParts } from '../helpers/config-input.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { FieldRig } from '../helpers/field-rig.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { builtinProfile } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useUnhandled } from '../helpers/unhandled.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const unhandled = useUnhandled();

const TIMEOUT_MS = 400;

/** Three panic panels on one bus: unit 1 stays healthy, units 2 and 3 are the faulty ones. */
async function village(bus: (sim: ModbusSimulator) => Promise<BusParts>) {
  const sim = new ModbusSimulator();
  for (const u of [1, 2, 3]) sim.addUnit(u, builtinProfile('waveshare-modbus-rtu-io-8ch'));
  const busConfig = await bus(sim);
  cleanup(() => sim.close());
  const county = await startCounty(brokerRef.current.url, cleanup);
  const check = new DeliveryCheck(county);
  const dir = tempDir();
  const config = testConfig(brokerRef.current.url, dir, {
    gateway: { id: `gw-modbus-${randomUUID().slice(0, 8)}` },
    buses: [{ id: 'b1', timeoutMs: TIMEOUT_MS, ...busConfig }],
    devices: [1, 2, 3].map((u) => ({
      id: `panel-${u}`,
      driver: 'modbus',
      bus: 'b1',
      unitId: u,
      profile: 'waveshare-modbus-rtu-io-8ch',
      pollMs: 100,
      offlineAfter: 2,
      inputs: { di1: { role: 'alarm-button', id: `panic-${u}` } },
      outputs: { do8: { id: `led-${u}` } },
    })),
  });
  const rig = new FieldRig(config, dir);
  check.watch(rig.agent);
  await rig.agent.start();
  cleanup(() => rig.agent.stop());
  await waitUntil(() => [1, 2, 3].every((u) => sim.unit(u).reads > 2), 5000, 'every unit polled');
  return { sim, rig, check, bus: { describe: () => rig.agent.observe.bus('b1')! } };
}

const tcp = async (sim: ModbusSimulator): Promise<BusParts> => {
  await sim.listenTcp(await freePort());
  return { type: 'modbus-tcp', host: '127.0.0.1', port: sim.port };
};

/** A press on the healthy unit is reported (and released), proving it is still polled. */
async function healthyPress(sim: ModbusSimulator, rig: FieldRig, n: number): Promise<void> {
  sim.unit(1).set('di1', true);
  await waitUntil(() => rig.of('panic-1', 'alarm.pressed').length >= n, 3000, `press ${n} on the healthy unit`);
  sim.unit(1).set('di1', false);
  await waitUntil(() => rig.of('panic-1', 'alarm.released').length >= n, 3000, `release ${n} on the healthy unit`);
}

describe('field faults on a Modbus bus', () => {
  it(
    'a unit answering every request with a Modbus exception: offline with the code, the bus stays up, the others are polled',
    { timeout: 30_000 },
    async () => {
      const { sim, rig, check, bus } = await village(tcp);
      const reconnects = bus.describe().reconnects;
      sim.unit(2).exception = 4; // slave device failure
      const offline = await rig.waitFor(
        (e) => e.deviceId === 'panel-2' && e.type === 'device.offline',
        5000,
        'panel 2 offline',
      );
      expect(offline.data).toMatchObject({ code: 'MODBUS_EXCEPTION' });
      await expect(rig.agent.write({ deviceId: 'panel-2', output: 'do8', action: 'on' })).rejects.toMatchObject({
        code: 'MODBUS_EXCEPTION',
      });
      await healthyPress(sim, rig, 1);
      sim.unit(3).set('di1', true);
      await rig.waitFor((e) => e.deviceId === 'panic-3' && e.type === 'alarm.pressed', 3000, 'a press on unit 3');
      expect(bus.describe().reconnects, 'an exception is an answer: the link is fine').toBe(reconnects);

      sim.unit(2).exception = null; // repaired
      await rig.waitFor((e) => e.deviceId === 'panel-2' && e.type === 'device.online', 10_000, 'panel 2 online');
      expect(unhandled.errors).toEqual([]);
      await check.expectAllDelivered();
    },
  );

  it(
    'slow replies: beyond the timeout the unit goes offline while the others are polled; just under it, it stays online',
    { timeout: 30_000 },
    async () => {
      const { sim, rig, check, bus } = await village(tcp);
      sim.unit(3).replyDelayMs = TIMEOUT_MS * 3;
      await rig.waitFor((e) => e.deviceId === 'panel-3' && e.type === 'device.offline', 5000, 'panel 3 offline');
      expect(bus.describe().timeouts).toBeGreaterThanOrEqual(2);
      await healthyPress(sim, rig, 1);
      const late = await rig.agent
        .write({ deviceId: 'panel-3', output: 'do8', action: 'on' })
        .catch((err: unknown) => err);
      expect(late).toBeInstanceOf(GatewayError);
      expect(late).toMatchObject({ code: 'TIMEOUT' });

      sim.unit(3).replyDelayMs = Math.round(TIMEOUT_MS * 0.4); // slow, but in time
      await rig.waitFor((e) => e.deviceId === 'panel-3' && e.type === 'device.online', 40_000, 'panel 3 online');
      const offlines = rig.of('panel-3', 'device.offline').length;
      const reads = sim.unit(3).reads;
      await waitUntil(() => sim.unit(3).reads >= reads + 10, 10_000, 'ten slow polls of unit 3');
      expect(rig.of('panel-3', 'device.offline').length, 'no flapping while it answers in time').toBe(offlines);
      sim.unit(3).set('di1', true);
      await rig.waitFor(
        (e) => e.deviceId === 'panic-3' && e.type === 'alarm.pressed',
        3000,
        'a press on the slow unit',
      );
      await healthyPress(sim, rig, 2);
      expect(unhandled.errors).toEqual([]);
      await check.expectAllDelivered();
    },
  );

  it(
    'noise on an RS-485 line: no crash, the unit it hits goes offline and back, the others are polled, errors counted',
    { timeout: 30_000 },
    async () => {
      const pty = await new PtyPair('noise').start();
      cleanup(() => pty.dispose());
      const { sim, rig, check, bus } = await village(async (s) => {
        await s.listenSerial(pty.a);
        return { type: 'modbus-rtu', path: pty.b, baudRate: 9600 };
      });
      // Deterministic noise (a linear congruential generator) sprinkled with what looks like
      // the start of unit 2's reply (unit id, FC02): the master takes it for one and finds a
      // bad CRC. Every fifth burst is longer than the master's 256-byte buffer.
      let seed = 7;
      const burst = (n: number) =>
        Buffer.from(
          Array.from({ length: n }, (_, i) =>
            i % 13 === 0 ? 2 : i % 13 === 1 ? 0x02 : (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff,
          ),
        );
      const errorsBefore = bus.describe().errors;
      let noisy = true;
      const pump = (async () => {
        for (let n = 0; noisy; n++) {
          await sim.noise(burst(n % 5 === 0 ? 600 : 40));
          await new Promise((r) => setTimeout(r, 30)); // a noisy line, not a saturated one
        }
      })();
      // Background noise alone hits whichever transaction it lands in, which depends on the
      // machine's timing; a burst just ahead of each of unit 2's replies makes unit 2 the one
      // it hits, every time.
      sim.unit(2).beforeReply = () => sim.noise(burst(40));
      cleanup(async () => {
        noisy = false;
        sim.unit(2).beforeReply = null;
        await pump;
      });
      await rig.waitFor(
        (e) => e.deviceId === 'panel-2' && e.type === 'device.offline',
        8000,
        'panel 2 offline in the noise',
      );
      await healthyPress(sim, rig, 1); // the others are still polled through the noise
      noisy = false;
      sim.unit(2).beforeReply = null;
      await pump;
      expect(bus.describe().errors, 'the noise was counted (bad CRCs)').toBeGreaterThan(errorsBefore);
      await rig.waitFor(
        (e) => e.deviceId === 'panel-2' && e.type === 'device.online',
        10_000,
        'panel 2 online once the line is quiet',
      );
      sim.unit(2).set('di1', true);
      await rig.waitFor(
        (e) => e.deviceId === 'panic-2' && e.type === 'alarm.pressed',
        5000,
        'a press on unit 2 after the noise',
      );
      expect(rig.of('panic-3', 'alarm.pressed'), 'no phantom press from noise').toHaveLength(0);
      expect(unhandled.errors).toEqual([]);
      await check.expectAllDelivered();
    },
  );
});
