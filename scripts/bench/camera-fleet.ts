/**
 * Simulated cameras for the camera benchmarks (camera.ts, weaklink-media.ts, rss-cameras.ts):
 * Hikvision and Dahua simulators in turn (scripts/simulators/camera-simulator.ts), each
 * serving a real JPEG padded to the size a substream picture has (tens of KB), and the device
 * entries that point an agent at them. Each alarm names its own region, so the bench can tell
 * its event apart at the county and in the outbox.
 */
import type { z } from 'zod';
import type { deviceSchema } from '../../config/schema/devices.js';
import { requireProfile } from '../../config/load-profile.js';
import { CameraHttp } from '../../drivers/camera/camera-http.js';
import { CameraSimulator } from '../simulators/camera-simulator.js';
import { paddedJpeg } from '../simulators/camera-snapshot-sim.js';

/** The env variable the camera devices read their password from (a secret reference, as in a real config). */
export const CAMERA_PASSWORD_ENV = 'VG_BENCH_CAMERA_PASSWORD';
const PASSWORD = 'bench-cam-pass';

export type DeviceInput = z.input<typeof deviceSchema>;
type CameraDeviceInput = Extract<DeviceInput, { driver: 'camera' }>;

const profileOf = (c: BenchCamera) => (c.sim.brand === 'hikvision' ? 'hikvision-isapi' : 'dahua-cgi');

export interface BenchCamera {
  id: string;
  sim: CameraSimulator;
  port: number;
}

export class CameraFleet {
  private constructor(readonly cameras: BenchCamera[]) {}

  /** `n` cameras (Hikvision, Dahua, Hikvision, ...), their pictures `pictureBytes` each, heartbeats every `heartbeatMs`. */
  static async start(n: number, pictureBytes: number, heartbeatMs = 1000): Promise<CameraFleet> {
    process.env[CAMERA_PASSWORD_ENV] = PASSWORD;
    const cameras: BenchCamera[] = [];
    for (let i = 0; i < n; i++) {
      const sim = new CameraSimulator({ brand: i % 2 === 0 ? 'hikvision' : 'dahua', password: PASSWORD, heartbeatMs });
      sim.snapshots.jpeg = paddedJpeg(sim.snapshots.jpeg, pictureBytes);
      cameras.push({ id: `cam-${i + 1}`, sim, port: await sim.listen() });
    }
    return new CameraFleet(cameras);
  }

  /** The agent's device entries for the cameras (debounce off: every alarm the bench writes is one event). */
  devices(debounceMs = 0): CameraDeviceInput[] {
    return this.cameras.map((c) => ({
      id: c.id,
      driver: 'camera' as const,
      profile: profileOf(c),
      host: '127.0.0.1',
      port: c.port,
      user: 'admin',
      password: { env: CAMERA_PASSWORD_ENV },
      debounceMs,
      reconnect: { minMs: 200, maxMs: 2000 },
    }));
  }

  /** Every camera's event stream is open (the agent connected and logged in). */
  get allStreaming(): boolean {
    return this.cameras.every((c) => c.sim.streams.size > 0);
  }

  /** An intrusion (an alarm-class pulse: the agent takes its picture) in `region` on camera `i`. */
  intrusion(i: number, region: string): void {
    const { sim } = this.cameras[i % this.cameras.length]!;
    sim.event(
      sim.brand === 'hikvision'
        ? { code: 'fielddetection', state: 'active', channel: 1, region }
        : { code: 'CrossRegionDetection', state: 'Start', channel: 0, region },
    );
  }

  /** Motion starting or ending (not an alarm: no picture) on camera `i`. */
  motion(i: number, active: boolean, region = 'yard'): void {
    const { sim } = this.cameras[i % this.cameras.length]!;
    sim.event(
      sim.brand === 'hikvision'
        ? { code: 'VMD', state: active ? 'active' : 'inactive', channel: 1, region }
        : { code: 'VideoMotion', state: active ? 'Start' : 'Stop', channel: 0, region },
    );
  }

  /**
   * A plain digest-authenticated GET of camera `i`'s picture at the path its profile names, with
   * the driver's own HTTP client: the camera's part of a snapshot, without the agent's.
   */
  async fetchPicture(i: number, http: CameraHttp): Promise<Buffer> {
    const c = this.cameras[i % this.cameras.length]!;
    const path = requireProfile(profileOf(c), 'camera').snapshot!.path!.replaceAll('{channel}', '1'); // the bench's cameras are Hikvision and Dahua: a path
    const res = await http.get(path, AbortSignal.timeout(10_000));
    const parts: Buffer[] = [];
    for await (const chunk of res) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  /** An HTTP client for camera `i`, logged in as the agent is. */
  client(i: number): CameraHttp {
    const c = this.cameras[i % this.cameras.length]!;
    return new CameraHttp({
      host: '127.0.0.1',
      port: c.port,
      creds: { user: 'admin', password: PASSWORD },
      headersTimeoutMs: 5000,
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.cameras.map((c) => c.sim.close()));
  }
}
