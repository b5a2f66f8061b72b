/**
 * One harness per driver kind for the conformance suite (test/drivers/conformance.test.ts):
 * the driver built by the registry, as the agent builds it, against a real peer (a Modbus
 * TCP simulator, a serial device or a modem simulator on a socat pty). The agent side of
 * the context (emit) only records: the suite tests the driver contract, not the outbox.
 */
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { Driver, OutputCommand, SharedBus } from '../../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { EventFactory } from '../../agent/event-factory.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import { systemClock } from '../../core/kernel/system-clock.js';
import { resolveProfiles } from '../../config/load-config.js';
import type { GsmModemDriver } from '../../drivers/modem/gsm-modem-driver.js';
import { createDrivers } from '../../drivers/registry.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { ModbusSimulator, type SimulatedUnit } from '../../scripts/simulators/modbus-simulator.js';
import { CameraSimulator } from '../../scripts/simulators/camera-simulator.js';
import { ModemSimulator } from '../../scripts/simulators/modem-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import { SerialDeviceSimulator } from '../../scripts/simulators/serial-device.js';
import { testConfig } from './agent-config.js';
import { builtinProfile } from './modbus-rig.js';
import { quietLogger } from './quiet-logger.js';
import { waitUntil } from './wait.js';

export interface DriverHarness {
  readonly kind: 'synthetic' | 'modbus' | 'serial' | 'modem' | 'camera';
  readonly deviceId: string;
  readonly driver: Driver;
  /** What the driver emitted. */
  readonly events: EventInput[];
  /** Waits until the driver talks to its peer (online). */
  ready(): Promise<void>;
  /** Makes the peer produce something the driver reports as an event. */
  provoke(): Promise<void>;
  /** A command for this device: a real output where it has one. */
  readonly command: OutputCommand;
  /** Leaves work for stop() (a gateway-timed pulse to end), and says how to see it was done. */
  pendingWork(): Promise<() => boolean>;
  /** Starts an operation the peer holds back (a write to a slow unit, an SMS to a hung modem). */
  inFlight(): Promise<unknown>;
  /** After stop: the driver's resources are released (its port can be opened again, nothing is polled). */
  released(): Promise<boolean>;
  dispose(): Promise<void>;
}

type Cleanup = () => Promise<unknown> | unknown;

async function build(
  dir: string,
  over: Record<string, unknown>,
  cleanups: Cleanup[],
): Promise<{ driver: Driver; events: EventInput[]; buses: Map<string, SharedBus> }> {
  const config = testConfig('mqtt://127.0.0.1:1', dir, over);
  const { profiles, problems } = resolveProfiles(config, dir);
  if (problems.length > 0) throw new Error(`harness config: ${JSON.stringify(problems)}`);
  const events: EventInput[] = [];
  const clock = systemClock('always');
  const factory = new EventFactory('gw-conformance', SeqCounter.open(join(dir, 'seq.json'), 0), clock);
  const emit = (e: EventInput): Promise<GatewayEvent> => {
    events.push(e);
    return Promise.resolve(factory.create(e));
  };
  const created = await createDrivers(
    config,
    profiles,
    () => ({ logger: quietLogger(), clock, emit }),
    () => quietLogger(),
  );
  for (const bus of created.buses.values()) {
    bus.start();
    cleanups.push(() => bus.stop());
  }
  const driver = [...created.drivers.values()][0]!;
  cleanups.push(() => driver.stop());
  return { driver, events, buses: created.buses };
}

const disposer = (cleanups: Cleanup[]) => async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
};

/** The port at `path` can be opened (and locked) again: the driver let it go. */
async function portFree(path: string): Promise<boolean> {
  const probe = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  probe.on('error', () => undefined); // the answer is the open callback's
  const opened = await new Promise<boolean>((resolve) => probe.open((err) => resolve(!err)));
  if (opened) await new Promise<void>((resolve) => probe.close(() => resolve()));
  return opened;
}

export async function syntheticHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const { driver, events } = await build(
    dir,
    { devices: [{ id: 'meter', driver: 'synthetic', rates: { telemetryPerSec: 20 } }] },
    cleanups,
  );
  return {
    kind: 'synthetic',
    deviceId: 'meter',
    driver,
    events,
    ready: () => waitUntil(() => driver.describe().online, 3000, 'the synthetic driver running'),
    provoke: async () => undefined, // it emits on its own timers
    command: { deviceId: 'meter', output: 'relay', action: 'on' },
    pendingWork: async () => () => true,
    inFlight: () => driver.write({ deviceId: 'meter', output: 'relay', action: 'on' }),
    released: async () => {
      const n = events.length;
      await new Promise((r) => setTimeout(r, 200)); // an absence: four intervals with nothing emitted
      return events.length === n;
    },
    dispose: disposer(cleanups),
  };
}

export async function modbusHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const sim = new ModbusSimulator();
  const unit: SimulatedUnit = sim.addUnit(1, builtinProfile('waveshare-modbus-rtu-io-8ch'));
  await sim.listenTcp(await freePort());
  cleanups.push(() => sim.close());
  const { driver, events } = await build(
    dir,
    {
      buses: [{ id: 'tcp', type: 'modbus-tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 1000 }],
      devices: [
        {
          id: 'panel',
          driver: 'modbus',
          bus: 'tcp',
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
  return {
    kind: 'modbus',
    deviceId: 'panel',
    driver,
    events,
    ready: () => waitUntil(() => driver.describe().online, 5000, 'the unit answering'),
    provoke: async () => unit.set('di1', true),
    command: { deviceId: 'panel', output: 'do8', action: 'on' },
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
      return unit.reads === n;
    },
    dispose: disposer(cleanups),
  };
}

export async function serialHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const pty = await new PtyPair('conf-serial').start();
  cleanups.push(() => pty.dispose());
  const device = await new SerialDeviceSimulator(pty.a).open();
  cleanups.push(() => device.close());
  const { driver, events } = await build(
    dir,
    {
      devices: [
        {
          id: 'rf-rx',
          driver: 'serial',
          path: pty.b,
          profile: 'sonoff-rf-bridge',
          sensors: { D0035: { id: 'shed-pir', role: 'motion' } },
        },
      ],
    },
    cleanups,
  );
  return {
    kind: 'serial',
    deviceId: 'rf-rx',
    driver,
    events,
    ready: () => waitUntil(() => driver.describe().online, 5000, 'the port open'),
    provoke: () => device.send(Buffer.from('AAA424E001400384D0035855', 'hex')),
    command: { deviceId: 'rf-rx', output: 'relay', action: 'on' },
    pendingWork: async () => () => true,
    inFlight: () => driver.write({ deviceId: 'rf-rx', output: 'relay', action: 'on' }),
    released: () => portFree(pty.b),
    dispose: disposer(cleanups),
  };
}

export async function modemHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const pty = await new PtyPair('conf-modem').start();
  cleanups.push(() => pty.dispose());
  const sim = await new ModemSimulator(pty.a).open();
  cleanups.push(() => sim.close());
  const { driver, events } = await build(
    dir,
    { devices: [{ id: 'gsm', driver: 'modem', path: pty.b, profile: 'simcom-sim7600', statusPollSec: 5 }] },
    cleanups,
  );
  const modem = driver as GsmModemDriver;
  return {
    kind: 'modem',
    deviceId: 'gsm',
    driver,
    events,
    ready: () => waitUntil(() => driver.describe().online, 5000, 'the modem initialised'),
    provoke: async () => void (await modem.poll()), // the first poll reports the registration
    command: { deviceId: 'gsm', output: 'relay', action: 'on' },
    pendingWork: async () => () => true,
    inFlight: () => {
      sim.silent = true; // a hung modem: the SMS waits for an answer that never comes
      return modem.sendSms('13800138000', 'Alarm at house 7');
    },
    released: () => portFree(pty.b),
    dispose: disposer(cleanups),
  };
}

export async function cameraHarness(dir: string): Promise<DriverHarness> {
  const cleanups: Cleanup[] = [];
  const sim = new CameraSimulator({ brand: 'hikvision', password: 'cam-pass-1' });
  const port = await sim.listen();
  cleanups.push(() => sim.close());
  const camera = { id: 'gate-cam', driver: 'camera', profile: 'hikvision-isapi', host: '127.0.0.1', port };
  const { driver, events } = await build(
    dir,
    { devices: [{ ...camera, user: 'admin', password: 'cam-pass-1', idleTimeoutMs: 2000, debounceMs: 0 }] },
    cleanups,
  );
  const none = { deviceId: 'gate-cam', output: 'relay', action: 'on' } as const;
  return {
    kind: 'camera',
    deviceId: 'gate-cam',
    driver,
    events,
    ready: () => waitUntil(() => driver.describe().online, 5000, 'the alert stream up'),
    provoke: async () => sim.event({ code: 'linedetection', state: 'active', channel: 1 }),
    command: none,
    pendingWork: async () => () => true, // a camera has no outputs the gateway times
    inFlight: () => driver.write(none), // refused at once (NO_OUTPUT): nothing can hang
    released: async () => {
      const n = sim.connections;
      await new Promise((r) => setTimeout(r, 300)); // an absence: no stream reopened
      return sim.streams.size === 0 && sim.connections === n;
    },
    dispose: disposer(cleanups),
  };
}
