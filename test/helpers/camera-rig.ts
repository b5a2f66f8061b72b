/**
 * A gateway agent with one simulated camera (scripts/simulators/camera-simulator.ts) and,
 * optionally, house 7's Modbus panic button beside it: the camera tests run the real driver
 * through the real event pipeline, and time a press while the camera misbehaves.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { CameraSimulator, type CameraSimOptions } from '../../scripts/simulators/camera-simulator.js';
import { ModbusSimulator } from '../../scripts/simulators/modbus-simulator.js';
import { testConfig, type TestConfigOver } from './agent-config.js';
import type { DeviceOf } from './config-input.js';
import { AgentRig, builtinProfile, house7Board } from './modbus-rig.js';
import { waitUntil } from './wait.js';

export interface CameraRig {
  sim: CameraSimulator;
  rig: AgentRig;
  /** Every warn-or-worse line the agent logged, parsed. */
  logs: Record<string, unknown>[];
  /** Presses house 7's panic button; resolves with ms from the press to alarm.pressed stored in the outbox. */
  press?: () => Promise<number>;
  /** With `siren`: presses it and resolves with ms from the press to the siren relay's pulse written to the board. */
  pressToSiren?: () => Promise<number>;
}

export interface CameraRigOptions {
  brokerUrl: string;
  dir: string;
  cleanup: (fn: () => unknown) => void;
  sim: CameraSimOptions;
  device?: Partial<DeviceOf<'camera'>>;
  panic?: boolean;
  /** More of the gateway config (media, rules). */
  config?: TestConfigOver;
  /** More devices beside the camera (and the panic board). */
  more?: NonNullable<TestConfigOver['devices']>;
  /** With `panic`: a rule sounds the siren (relay1's pulse) on a press, as in a village. */
  siren?: boolean;
}

/** The Waveshare board's own timed pulse of relay1 (the siren), as the rule writes it. */
const SIREN_FLASH = 0x0200;

/** The rig's camera device: quick timeouts and backoffs, the password from VG_TEST_CAMERA_PASSWORD. */
export function rigCamera(profile: string, port: number, over?: Partial<DeviceOf<'camera'>>): DeviceOf<'camera'> {
  return {
    id: 'gate-cam',
    driver: 'camera',
    profile,
    host: '127.0.0.1',
    port,
    user: 'admin',
    password: { env: 'VG_TEST_CAMERA_PASSWORD' },
    idleTimeoutMs: 1500,
    debounceMs: 0,
    reconnect: { minMs: 100, maxMs: 500 },
    authRetry: { minMs: 400, maxMs: 5000 },
    ...over,
  };
}

export async function cameraRig(o: CameraRigOptions): Promise<CameraRig> {
  const sim = new CameraSimulator(o.sim);
  const port = await sim.listen();
  o.cleanup(() => sim.close());
  const profile = o.sim.brand === 'hikvision' ? 'hikvision-isapi' : 'dahua-cgi';
  const camera = rigCamera(profile, port, o.device);
  process.env.VG_TEST_CAMERA_PASSWORD = o.sim.password ?? 'cam-pass-1';
  let board: ReturnType<ModbusSimulator['addUnit']> | null = null;
  let modbusSim: ModbusSimulator | null = null;
  let extra: TestConfigOver = { devices: [camera] };
  if (o.panic) {
    const modbus = new ModbusSimulator();
    board = modbus.addUnit(1, builtinProfile('waveshare-modbus-rtu-relay-d'));
    await modbus.listenTcp(await freePort());
    o.cleanup(() => modbus.close());
    modbusSim = modbus;
    const h7 = house7Board(modbus.port);
    extra = { buses: h7.buses, devices: [...h7.devices, camera] };
    if (o.siren)
      extra.rules = [
        {
          id: 'panic-siren',
          when: { type: 'alarm.pressed' },
          cooldownSec: 0,
          actions: [{ do: 'output', device: 'house-7-board', output: 'relay1', action: 'pulse', durationMs: 500 }],
        },
      ];
  }
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  if (o.more) extra = { ...extra, devices: [...(extra.devices ?? []), ...o.more] };
  const config = testConfig(o.brokerUrl, o.dir, { ...extra, ...o.config });
  const rig = new AgentRig(config, o.dir, pino({ level: 'warn' }, sink));
  await rig.agent.start();
  o.cleanup(() => rig.agent.stop());
  const stored: GatewayEvent[] = [];
  rig.agent.observe.onStored((events) => stored.push(...events));
  const press = board
    ? async () => {
        const b = board!;
        const n = stored.filter((e) => e.type === 'alarm.pressed').length;
        b.set('di2', false);
        await new Promise((r) => setTimeout(r, 150)); // released, and read so by a poll
        const t0 = Date.now();
        b.set('di2', true);
        await waitUntil(() => stored.filter((e) => e.type === 'alarm.pressed').length > n, 5000, 'the press stored');
        return Date.now() - t0;
      }
    : undefined;
  const pressToSiren =
    press && o.siren
      ? async () => {
          const writes = modbusSim!.writes;
          const before = writes.filter((w) => w.address === SIREN_FLASH).length;
          const t0 = performance.now();
          await press();
          await waitUntil(() => writes.filter((w) => w.address === SIREN_FLASH).length > before, 5000, 'the siren');
          return writes.filter((w) => w.address === SIREN_FLASH).at(-1)!.atMs - t0;
        }
      : undefined;
  return { sim, rig, logs, ...(press ? { press } : {}), ...(pressToSiren ? { pressToSiren } : {}) };
}

/** The log lines with this code. */
export const logged = (logs: Record<string, unknown>[], code: string) => logs.filter((l) => l.code === code);

/** A camera rig whose camera stream is open (the driver connected and authenticated). */
export async function openCameraRig(o: CameraRigOptions): Promise<CameraRig> {
  const r = await cameraRig(o);
  await waitUntil(() => r.sim.streams.size === 1, 5000, 'the camera stream open');
  return r;
}

/** Makes the simulated camera hostile from its next connection on, and cuts the current one. */
export function turnHostile(r: CameraRig, mode: NonNullable<CameraSimulator['hostile']>): void {
  r.sim.hostile = mode;
  for (const s of r.sim.streams) s.socket?.destroy();
}
