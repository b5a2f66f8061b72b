/**
 * A gateway agent with one simulated ONVIF camera (scripts/simulators/camera-onvif-sim.ts):
 * the real driver, through the real event pipeline, against a real HTTP server speaking SOAP.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { DriverDescription } from '../../core/contracts/driver.js';
import { OnvifCameraSimulator, type OnvifSimOptions } from '../../scripts/simulators/camera-onvif-sim.js';
import { testConfig } from './agent-config.js';
import { rigCamera } from './camera-rig.js';
import type { DeviceOf } from './config-input.js';
import { AgentRig } from './modbus-rig.js';
import { waitUntil } from './wait.js';

export interface OnvifRig {
  sim: OnvifCameraSimulator;
  rig: AgentRig;
  logs: Record<string, unknown>[];
  describe(): DriverDescription;
}

export interface OnvifRigOptions {
  brokerUrl: string;
  dir: string;
  cleanup: (fn: () => unknown) => void;
  sim?: OnvifSimOptions;
  /** Set on the simulator before the agent starts (the Initialized burst, a hostile mode). */
  before?: (sim: OnvifCameraSimulator) => void;
  device?: Partial<DeviceOf<'camera'>>;
  /** Wait for the first pull answered (default true). */
  open?: boolean;
}

export async function onvifRig(o: OnvifRigOptions): Promise<OnvifRig> {
  const sim = new OnvifCameraSimulator(o.sim);
  const port = await sim.listen();
  o.cleanup(() => sim.close());
  o.before?.(sim);
  process.env.VG_TEST_CAMERA_PASSWORD = 'cam-pass-1';
  const camera = rigCamera('onvif', port, o.device);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const rig = new AgentRig(testConfig(o.brokerUrl, o.dir, { devices: [camera] }), o.dir, pino({ level: 'warn' }, sink));
  await rig.agent.start();
  o.cleanup(() => rig.agent.stop());
  const describe = () => rig.agent.drivers.find((d) => d.describe().driver === 'camera')!.describe();
  if (o.open !== false) await waitUntil(() => describe().online, 5000, 'the pull point answering');
  return { sim, rig, logs, describe };
}

/** The driver's ONVIF counters (describe().detail.onvif). */
export const onvifCounts = (r: OnvifRig) =>
  r.describe().detail!.onvif as {
    pulls: number;
    renews: number;
    subscribes: number;
    clockReads: number;
    faults: number;
    clockOffsetMs: number;
  };
