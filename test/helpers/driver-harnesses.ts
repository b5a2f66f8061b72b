/**
 * One harness per driver kind for the driver contract (test/drivers/driver-contract.ts): the
 * driver built by the registry against a real peer (modbus-serial's server over TCP or on a
 * socat pty, a serial device or a modem simulator on a socat pty).
 */
import type { GsmModemDriver } from '../../drivers/modem/gsm-modem-driver.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { OnvifCameraSimulator } from '../../scripts/simulators/camera-onvif-sim.js';
import { CameraSimulator } from '../../scripts/simulators/camera-simulator.js';
import { ModbusSimulator } from '../../scripts/simulators/modbus-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import type { BusInput } from './config-input.js';
import { harnessBase, portFree, type Cleanup, type DriverHarness } from './driver-harness.js';
import { builtinProfile } from './modbus-rig.js';
import { waitUntil } from './wait.js';
import { startModem } from './sms-village.js';
import { startSerialDevice } from './field-peers.js';

export type { DriverHarness } from './driver-harness.js';

export async function syntheticHarness(dir: string): Promise<DriverHarness> {
  const base = await harnessBase(dir, {
    devices: [{ id: 'meter', driver: 'synthetic', rates: { telemetryPerSec: 20 } }],
  });
  const { driver, events } = base;
  return {
    ...base,
    kind: 'synthetic',
    deviceId: 'meter',
    ready: () => waitUntil(() => driver.describe().online, 3000, 'the synthetic driver running'),
    provoke: async () => undefined, // it emits on its own timers
    provoked: { type: 'sensor.telemetry', deviceId: 'meter' },
    command: { deviceId: 'meter', output: 'relay', action: 'on' },
    pendingWork: async () => () => true,
    inFlight: () => driver.write({ deviceId: 'meter', output: 'relay', action: 'on' }),
    released: async () => {
      const n = events.length;
      await new Promise((r) => setTimeout(r, 200)); // an absence: four intervals with nothing emitted
      return events.length === n;
    },
  };
}

/** The Waveshare IO 8CH as unit 1, over Modbus TCP or on an RS-485 line (a socat pty pair). */
async function modbusHarness(dir: string, transport: 'tcp' | 'rtu'): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const sim = new ModbusSimulator();
  const unit = sim.addUnit(1, builtinProfile('waveshare-modbus-rtu-io-8ch'));
  let bus: BusInput;
  let line: string | null = null;
  if (transport === 'tcp') {
    await sim.listenTcp(await freePort());
    bus = { id: 'field', type: 'modbus-tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 1000 };
  } else {
    const pty = await new PtyPair('conf-rs485').start();
    cleanups.push(() => pty.dispose());
    await sim.listenSerial(pty.a);
    line = pty.b;
    bus = { id: 'field', type: 'modbus-rtu', path: pty.b, baudRate: 9600, timeoutMs: 1000 };
  }
  cleanups.push(() => sim.close());
  const base = await harnessBase(
    dir,
    {
      buses: [bus],
      devices: [
        {
          id: 'panel',
          driver: 'modbus',
          bus: 'field',
          unitId: 1,
          profile: 'waveshare-modbus-rtu-io-8ch',
          pollMs: 50,
          inputs: { di1: { role: 'alarm-button', id: 'panic-1' } },
          outputs: { do8: {} },
        },
      ],
    },
    cleanups,
  );
  const { driver } = base;
  return {
    ...base,
    kind: 'modbus',
    deviceId: 'panel',
    ready: () => waitUntil(() => driver.describe().online, 5000, 'the unit answering'),
    provoke: async () => unit.set('di1', true),
    provoked: { type: 'alarm.pressed', deviceId: 'panic-1' },
    command: { deviceId: 'panel', output: 'do8', action: 'on' },
    outputDone: () => unit.coils.get(7) === true,
    pendingWork: async () => {
      // A pulse the gateway times itself (this board has no flash command): stop must end it.
      await driver.write({ deviceId: 'panel', output: 'do2', action: 'pulse', durationMs: 60_000 });
      return () => unit.coils.get(1) === false;
    },
    inFlight: () => {
      unit.replyDelayMs = 300; // answers, but late: the write is in flight when stop is called
      return driver.write({ deviceId: 'panel', output: 'do8', action: 'on' });
    },
    released: async () => {
      const n = unit.reads;
      await new Promise((r) => setTimeout(r, 300)); // an absence: six poll intervals without a read
      // On RS-485 the line is the bus's: it is still held (until stopAfter), the polling is what stops.
      return unit.reads === n;
    },
    // The line's lock is the bus's to let go: once it has, the port opens again.
    stopAfter: async () => {
      await base.stopAfter();
      if (line !== null && !(await portFree(line))) throw new Error(`the bus did not let ${line} go`);
    },
  };
}

export const modbusTcpHarness = (dir: string) => modbusHarness(dir, 'tcp');
export const modbusRtuHarness = (dir: string) => modbusHarness(dir, 'rtu');

export async function serialHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const { pty, device } = await startSerialDevice((c) => void cleanups.push(c), 'conf-serial');
  const base = await harnessBase(
    dir,
    {
      devices: [
        {
          id: 'rf-rx',
          driver: 'serial',
          path: pty.b,
          profile: 'sonoff-rf-bridge',
          sensors: { D0035: { id: 'shed-panic', role: 'alarm-button' } },
        },
      ],
    },
    cleanups,
  );
  const { driver } = base;
  return {
    ...base,
    kind: 'serial',
    deviceId: 'rf-rx',
    ready: () => waitUntil(() => driver.describe().online, 5000, 'the port open'),
    provoke: () => device.send(Buffer.from('AAA424E001400384D0035855', 'hex')),
    provoked: { type: 'alarm.pressed', deviceId: 'shed-panic' },
    command: { deviceId: 'rf-rx', output: 'relay', action: 'on' },
    pendingWork: async () => () => true,
    inFlight: () => driver.write({ deviceId: 'rf-rx', output: 'relay', action: 'on' }),
    released: () => portFree(pty.b),
  };
}

export async function modemHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const { pty, sim } = await startModem((c) => void cleanups.push(c));
  const base = await harnessBase(
    dir,
    { devices: [{ id: 'gsm', driver: 'modem', path: pty.b, profile: 'simcom-sim7600', statusPollSec: 5 }] },
    cleanups,
  );
  const { driver } = base;
  const modem = driver as GsmModemDriver;
  return {
    ...base,
    kind: 'modem',
    deviceId: 'gsm',
    ready: () => waitUntil(() => driver.describe().online, 5000, 'the modem initialised'),
    provoke: async () => void (await modem.poll()), // the first poll reports the registration
    provoked: { type: 'modem.registration', deviceId: 'gsm' },
    command: { deviceId: 'gsm', output: 'relay', action: 'on' },
    pendingWork: async () => () => true,
    inFlight: () => {
      sim.silent = true; // a hung modem: the SMS waits for an answer that never comes
      return modem.sendSms('13800138000', 'Alarm at house 7');
    },
    released: () => portFree(pty.b),
  };
}

/** A camera of `profile` on the simulator at `port`: the parts both camera harnesses share. */
async function cameraBase(dir: string, profile: string, port: number, cleanups: Cleanup[]) {
  const camera = { id: 'gate-cam', driver: 'camera' as const, profile, host: '127.0.0.1', port };
  const base = await harnessBase(
    dir,
    { devices: [{ ...camera, user: 'admin', password: 'cam-pass-1', idleTimeoutMs: 2000, debounceMs: 0 }] },
    cleanups,
  );
  const none = { deviceId: 'gate-cam', output: 'relay', action: 'on' } as const;
  return {
    ...base,
    kind: 'camera' as const,
    deviceId: 'gate-cam',
    provoked: { type: 'camera.line_crossed', deviceId: 'gate-cam' },
    command: none,
    inFlight: () => base.driver.write(none), // refused at once (NO_OUTPUT): nothing can hang
  };
}

export async function cameraHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const sim = new CameraSimulator({ brand: 'hikvision', password: 'cam-pass-1' });
  const port = await sim.listen();
  cleanups.push(() => sim.close());
  const base = await cameraBase(dir, 'hikvision-isapi', port, cleanups);
  return {
    ...base,
    ready: () => waitUntil(() => base.driver.describe().online, 5000, 'the alert stream up'),
    provoke: async () => sim.event({ code: 'linedetection', state: 'active', channel: 1 }),
    pendingWork: async () => () => true, // a camera has no outputs the gateway times
    released: async () => {
      const n = sim.connections;
      await new Promise((r) => setTimeout(r, 300)); // an absence: no stream reopened
      return sim.streams.size === 0 && sim.connections === n;
    },
  };
}

/** An ONVIF camera (PullPoint) against the simulated ONVIF camera; its pull point on a second port. */
export async function onvifHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const sim = new OnvifCameraSimulator({ password: 'cam-pass-1', subscriptionPort: true });
  const port = await sim.listen();
  cleanups.push(() => sim.close());
  const base = await cameraBase(dir, 'onvif', port, cleanups);
  return {
    ...base,
    ready: () => waitUntil(() => base.driver.describe().online, 5000, 'the pull point answering'),
    provoke: async () =>
      sim.event({ topic: 'tns1:RuleEngine/LineDetector/Crossed', source: { Rule: 'L1' }, data: { State: 'true' } }),
    pendingWork: async () => () => sim.subscriptions === 0, // stop owes the camera an Unsubscribe
    released: async () => {
      const n = sim.counts.pulls;
      await new Promise((r) => setTimeout(r, 300)); // an absence: no pull after stop
      return sim.subscriptions === 0 && sim.counts.pulls === n;
    },
  };
}
