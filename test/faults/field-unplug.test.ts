/**
 * Field faults, unplugged: an RS-485 adapter pulled (socat killed) while a write is in
 * flight, against real peers (modbus-serial's servers, socat ptys, a broker). The agent
 * must not crash, must keep polling the units on its other bus, must report offline and
 * online, and every event it committed must reach the county.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/kernel/errors.js';
import type { GsmModemDriver } from '../../drivers/modem/gsm-modem-driver.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { ModbusSimulator } from '../../scripts/simulators/modbus-simulator.js';
import { ModemSimulator } from '../../scripts/simulators/modem-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import { SerialDeviceSimulator } from '../../scripts/simulators/serial-device.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { FieldRig } from '../helpers/field-rig.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { builtinProfile } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useUnhandled } from '../helpers/unhandled.js';
import { waitUntil } from '../helpers/wait.js';
import { gsmModem } from '../helpers/village-config.js';
import { startSerialDevice } from '../helpers/field-peers.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const unhandled = useUnhandled();

async function countyCheck(): Promise<DeliveryCheck> {
  const county = await startCounty(brokerRef.current.url, cleanup);
  return new DeliveryCheck(county);
}

async function rtuSimulator(pty: PtyPair): Promise<ModbusSimulator> {
  const sim = new ModbusSimulator();
  sim.addUnit(1, builtinProfile('waveshare-modbus-rtu-io-8ch'));
  await sim.listenSerial(pty.a);
  cleanup(() => sim.close());
  return sim;
}

describe('field faults: unplugged lines', () => {
  it(
    'an RS-485 adapter pulled with a write in flight: no crash, the TCP bus keeps polling, offline then online, all delivered',
    { timeout: 60_000 },
    async () => {
      const pty = await new PtyPair('rs485').start();
      cleanup(() => pty.dispose());
      const rtu = await rtuSimulator(pty);
      const tcp = new ModbusSimulator();
      const store = tcp.addUnit(1, builtinProfile('waveshare-modbus-rtu-relay-d'));
      await tcp.listenTcp(await freePort());
      cleanup(() => tcp.close());

      const check = await countyCheck();
      const dir = tempDir();
      const config = testConfig(brokerRef.current.url, dir, {
        gateway: { id: `gw-unplug-${randomUUID().slice(0, 8)}` },
        buses: [
          { id: 'rs485', type: 'modbus-rtu', path: pty.b, baudRate: 9600, timeoutMs: 150 },
          { id: 'tcp', type: 'modbus-tcp', host: '127.0.0.1', port: tcp.port, timeoutMs: 300 },
        ],
        devices: [
          {
            id: 'panel',
            driver: 'modbus',
            bus: 'rs485',
            unitId: 1,
            profile: 'waveshare-modbus-rtu-io-8ch',
            pollMs: 100,
            offlineAfter: 2,
            inputs: { di1: { role: 'alarm-button', id: 'house-1-panic' } },
            outputs: { do8: { id: 'house-1-led' } },
          },
          {
            id: 'store',
            driver: 'modbus',
            bus: 'tcp',
            unitId: 1,
            profile: 'waveshare-modbus-rtu-relay-d',
            pollMs: 50,
            inputs: { di2: { role: 'alarm-button', id: 'store-panic' } },
          },
        ],
      });
      const rig = new FieldRig(config, dir);
      check.watch(rig.agent);
      await rig.agent.start();
      cleanup(() => rig.agent.stop());
      await waitUntil(() => rtu.unit(1).reads > 2 && store.reads > 2, 5000, 'polls on both buses');

      // The adapter stops draining (XOFF). A request timing out proves the hold took effect
      // (the XOFF travels through socat); then the LED write queues behind the held poll.
      const bus = { describe: () => rig.agent.observe.bus('rs485')! };
      pty.holdWritesFromB();
      const timeoutsBefore = bus.describe().timeouts;
      await waitUntil(() => bus.describe().timeouts > timeoutsBefore, 3000, 'a request held on the line to time out');
      const led = rig.agent.write({ deviceId: 'panel', output: 'do8', action: 'on' }).then(
        () => 'written',
        (err: unknown) => err,
      );
      await pty.stop(); // pulled, with the held writes still in the port
      await rig.waitFor((e) => e.deviceId === 'panel' && e.type === 'device.offline', 8000, 'the RTU unit offline');
      const ledResult = await led;
      expect(ledResult).toBeInstanceOf(GatewayError); // settled, with a code (TIMEOUT or BUS_DOWN), not hung
      expect(['TIMEOUT', 'BUS_DOWN', 'BUS_ERROR']).toContain((ledResult as GatewayError).code);

      // The other bus never stopped: a press there reaches the rules and the county.
      store.set('di2', true);
      await rig.waitFor(
        (e) => e.deviceId === 'store-panic' && e.type === 'alarm.pressed',
        3000,
        'a press on the TCP bus',
      );

      // Plugged back in (same path): the unit comes back and reports again.
      await pty.start();
      const back = await rtuSimulator(pty);
      await rig.waitFor((e) => e.deviceId === 'panel' && e.type === 'device.online', 40_000, 'the RTU unit online');
      back.unit(1).set('di1', true);
      await rig.waitFor(
        (e) => e.deviceId === 'house-1-panic' && e.type === 'alarm.pressed',
        5000,
        'a press after the replug',
      );

      expect(unhandled.errors).toEqual([]);
      expect(bus.describe().errors).toBeGreaterThanOrEqual(1); // the failed write was counted, not swallowed
      await check.expectAllDelivered();
    },
  );
});

describe('field faults: an unplugged modem', () => {
  it(
    'pulled with an SMS in flight: the SMS fails at once (MODEM_GONE), offline, online after the replug, the next SMS goes, all delivered',
    { timeout: 30_000 },
    async () => {
      const pty = await new PtyPair('modem').start();
      cleanup(() => pty.dispose());
      const sim = await new ModemSimulator(pty.a).open();
      cleanup(() => sim.close());
      const check = await countyCheck();
      const dir = tempDir();
      const config = testConfig(brokerRef.current.url, dir, {
        gateway: { id: `gw-modem-${randomUUID().slice(0, 8)}` },
        devices: [gsmModem(pty.b, 600)], // no status poll queued ahead of the SMS
      });
      const rig = new FieldRig(config, dir);
      check.watch(rig.agent);
      await rig.agent.start();
      cleanup(() => rig.agent.stop());
      const modem = rig.agent.drivers[0] as GsmModemDriver;
      await waitUntil(() => modem.describe().online, 5000, 'the modem ready');
      await rig.waitFor(
        (e) => e.deviceId === 'gsm' && e.type === 'modem.registration',
        5000,
        'the first status poll done',
      );

      sim.silent = true; // it stops answering mid-SMS (a brownout), then the USB cable goes
      const sms = modem.sendSms('13800138000', 'Alarm at house 7').then(
        () => 'sent',
        (err: unknown) => err,
      );
      await waitUntil(() => sim.commands.includes('AT+CMGF=1'), 3000, 'the SMS under way');
      const pulledAt = Date.now();
      await sim.close();
      await pty.stop();
      const failed = await sms;
      // The AT timeout is 5 s (60 s for the body): an SMS in flight must fail as soon as the line is gone.
      expect(Date.now() - pulledAt).toBeLessThan(3000);
      expect(failed).toBeInstanceOf(GatewayError);
      expect(failed).toMatchObject({ code: 'MODEM_GONE' });
      await rig.waitFor((e) => e.deviceId === 'gsm' && e.type === 'device.offline', 5000, 'the modem offline');

      await pty.start();
      const back = await new ModemSimulator(pty.a).open();
      cleanup(() => back.close());
      await rig.waitFor(
        (e) => e.deviceId === 'gsm' && e.type === 'device.online',
        15_000,
        'the modem online after the replug',
      );
      await waitUntil(() => modem.describe().online, 5000, 'the modem ready again');
      await modem.sendSms('13800138000', 'Alarm at house 7');
      expect(back.sent.map((m) => m.text)).toEqual(['Alarm at house 7']);
      expect(unhandled.errors).toEqual([]);
      await check.expectAllDelivered();
    },
  );
});

describe('field faults: an unplugged serial receiver', () => {
  it(
    'pulled while its frame acknowledgements are held: the failed write is counted, offline, online, events resume, all delivered',
    { timeout: 30_000 },
    async () => {
      const { pty, device } = await startSerialDevice(cleanup, 'bridge');
      const check = await countyCheck();
      const dir = tempDir();
      const config = testConfig(brokerRef.current.url, dir, {
        gateway: { id: `gw-bridge-${randomUUID().slice(0, 8)}` },
        devices: [
          {
            id: 'rf-bridge',
            driver: 'serial',
            path: pty.b,
            profile: 'sonoff-rf-bridge',
            sensors: { D0035: { id: 'shed-pir', role: 'motion' } },
          },
        ],
      });
      const rig = new FieldRig(config, dir);
      check.watch(rig.agent);
      await rig.agent.start();
      cleanup(() => rig.agent.stop());
      const driver = rig.agent.drivers[0]!;
      // Frames decoded, repeats included (the bridge drops a repeat within 1 s, but acknowledges it).
      const frames = () => {
        const d = driver.describe().detail as { events: number; repeats: number };
        return d.events + d.repeats;
      };
      await waitUntil(() => driver.describe().online, 5000, 'the port open');
      const frame = Buffer.from('AAA424E001400384D0035855', 'hex');
      await device.send(frame);
      await rig.waitFor((e) => e.deviceId === 'shed-pir', 3000, 'the first frame');
      await waitUntil(() => device.received.length >= 3, 3000, 'its acknowledgement');

      pty.holdWritesFromB(); // the bridge stops reading: the next acknowledgement stays in the port
      await device.send(frame);
      await waitUntil(() => frames() >= 2, 3000, 'the second frame (its ack held)');
      await device.close();
      await pty.stop();
      await rig.waitFor((e) => e.deviceId === 'rf-bridge' && e.type === 'device.offline', 5000, 'the bridge offline');
      expect(driver.describe().detail).toMatchObject({ portErrors: expect.any(Number) });
      expect(
        (driver.describe().detail as { portErrors: number }).portErrors,
        'the cancelled write was counted',
      ).toBeGreaterThanOrEqual(1);

      await pty.start();
      const back = await new SerialDeviceSimulator(pty.a).open();
      cleanup(() => back.close());
      await rig.waitFor((e) => e.deviceId === 'rf-bridge' && e.type === 'device.online', 15_000, 'the bridge online');
      await back.send(frame);
      await waitUntil(() => frames() >= 3, 3000, 'a frame after the replug');
      expect(unhandled.errors).toEqual([]);
      await check.expectAllDelivered();
    },
  );
});
