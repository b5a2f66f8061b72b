/**
 * The demo village's gate camera (issue 19): a simulated Hikvision camera on a free loopback
 * port, its alert stream and snapshot URL behind digest auth like a real one, serving a real
 * JPEG of the gate at night (scripts/simulators/fixtures/gate-night.jpg, drawn for this
 * repository from gate-night.svg). At a moment the demo picks, someone walks in through the
 * gate "at night" (the camera's own clock says 02:13): the camera reports an intrusion, the
 * agent takes the picture, and the county side times the alarm, then `camera.picture`, then
 * the picture whole, its sha256 checked against the event that named it, saved in a folder
 * the demo prints (kept after the demo ends, unlike the gateway's data folder).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { GatewayEvent } from '../core/contracts/event.js';
import type { CountySubscriber, ReceivedEvent } from './county-subscriber.js';
import type { AssembledPicture } from './county/picture-assembler.js';
import { CameraSimulator } from './simulators/camera-simulator.js';
import { readFirst } from './simulators/camera-snapshot-sim.js';

/** Where `config` looks for the camera's password ({env} ref): random per run, this process only. */
export const CAMERA_PASSWORD_ENV = 'VILLAGE_DEMO_CAMERA_PASSWORD';
const CAMERA_ID = 'gate-cam';
/** The camera's clock when it reports (a village night; the gateway's own ts is the real time). */
const CAMERA_TIME = '2026-12-06T02:13:07+08:00';
/** The intrusion is written again until the agent has it (a stream just reconnecting would miss it). */
const RESEND_MS = 1000;
const MAX_SENDS = 8;

export interface GateCameraSummary {
  /** The camera's own clock at the intrusion, HH:MM. */
  intrusionAt: string;
  /** Intrusion written on the camera's stream -> the alarm event at the county (null: never). */
  alarmMs: number | null;
  /** Intrusion -> `camera.picture` at the county. */
  announcedMs: number | null;
  /** Intrusion -> the picture whole at the county. */
  pictureMs: number | null;
  pictureBytes: number | null;
  /** The whole picture's sha256 is the one `camera.picture` announced. */
  sha256ok: boolean;
  /** The file the county saved (null: none). */
  savedAs: string | null;
  /** Snapshot requests the camera served. */
  snapshots: number;
}

/** The demo's picture, from the sources (vitest) or from dist/. */
const gateNightJpeg = () =>
  readFirst(
    ['./simulators/fixtures/gate-night.jpg', '../../scripts/simulators/fixtures/gate-night.jpg'].map(
      (r) => new URL(r, import.meta.url),
    ),
    'scripts/simulators/fixtures/gate-night.jpg',
  );

export class DemoGateCamera {
  readonly sim = new CameraSimulator({ brand: 'hikvision', heartbeatMs: 1000 });
  port = 0;
  private sentAtMs: number | null = null;
  private storedEvent: GatewayEvent | null = null;
  private alarmMs: number | null = null;
  private announced: { id: string; sha256: string; bytes: number; atMs: number } | null = null;
  private picture: { p: AssembledPicture; atMs: number } | null = null;
  private resend: NodeJS.Timeout | null = null;

  constructor(private readonly pictureDir: string) {
    this.sim.snapshots.jpeg = gateNightJpeg();
  }

  async start(): Promise<this> {
    process.env[CAMERA_PASSWORD_ENV] = randomBytes(9).toString('base64url');
    this.sim.setPassword(process.env[CAMERA_PASSWORD_ENV]);
    this.port = await this.sim.listen(0);
    return this;
  }

  /** The camera's device entry for the demo's config. */
  device(): Record<string, unknown> {
    return {
      id: CAMERA_ID,
      driver: 'camera',
      profile: 'hikvision-isapi',
      host: '127.0.0.1',
      port: this.port,
      user: 'admin',
      password: { env: CAMERA_PASSWORD_ENV },
      // Heartbeats every second: a stream silent for 5 s is dead.
      idleTimeoutMs: 5000,
      reconnect: { minMs: 200, maxMs: 2000 },
    };
  }

  /** The gateway's stored events (agent.observe.onStored) and the county's arrivals. */
  watch(county: CountySubscriber): (events: readonly GatewayEvent[]) => void {
    county.on('event', (e: ReceivedEvent, arrivedMs: number) => {
      if (this.sentAtMs === null) return;
      if (e.id === this.storedEvent?.id) this.alarmMs = arrivedMs - this.sentAtMs;
      const data = e.data as { picture?: { id: string; sha256: string; bytes: number } };
      if (e.type === 'camera.picture' && e.deviceId === CAMERA_ID && data.picture && !this.announced)
        this.announced = { ...data.picture, atMs: arrivedMs };
    });
    county.on('picture', (p) => {
      if (p.cameraId === CAMERA_ID && !this.picture) this.picture = { p, atMs: Date.now() };
    });
    return (events) => {
      const hit = events.find((e) => e.deviceId === CAMERA_ID && e.type === 'camera.intrusion');
      if (hit && !this.storedEvent) this.storedEvent = hit;
    };
  }

  /** Someone walks in through the gate: the camera's intrusion, sent until the agent has it. */
  intrusion(): void {
    let sends = 0;
    const send = () => {
      if (this.storedEvent || sends >= MAX_SENDS) return this.stopResending();
      sends += 1;
      this.sentAtMs = Date.now();
      this.sim.event({ code: 'fielddetection', state: 'active', channel: 1, region: 'Gate', cameraTime: CAMERA_TIME });
    };
    send();
    this.resend = setInterval(send, RESEND_MS);
  }

  /** Whether the county has all there is to have: the alarm, its announcement and the picture whole. */
  settled(): boolean {
    return this.alarmMs !== null && this.announced !== null && this.picture !== null;
  }

  summary(): GateCameraSummary {
    const sent = this.sentAtMs ?? 0;
    const a = this.announced;
    const pic = this.picture;
    const sha = pic ? createHash('sha256').update(pic.p.bytes).digest('hex') : null;
    return {
      intrusionAt: CAMERA_TIME.slice(11, 16),
      alarmMs: this.alarmMs,
      announcedMs: a ? a.atMs - sent : null,
      pictureMs: pic ? pic.atMs - sent : null,
      pictureBytes: pic?.p.size ?? null,
      sha256ok: a !== null && pic !== null && a.id === pic.p.id && sha === a.sha256 && pic.p.size === a.bytes,
      // The county subscriber's own name for it (county-subscriber.ts, pictureDir).
      savedAs: pic ? `${this.pictureDir}/${gatewayOf(this.storedEvent)}-${pic.p.id}.jpg` : null,
      snapshots: this.sim.snapshots.served,
    };
  }

  private stopResending(): void {
    if (this.resend) clearInterval(this.resend);
    this.resend = null;
  }

  async stop(): Promise<void> {
    this.stopResending();
    await this.sim.close();
  }
}

const gatewayOf = (e: GatewayEvent | null) => e?.gatewayId ?? '?';

/** The summary's line: `gate camera: intrusion 02:13 -> county had the alarm in 26 ms and the picture (14 KB, sha256 ok) in 61 ms`. */
export function gateCameraLine(s: GateCameraSummary): string {
  if (s.alarmMs === null) return `intrusion ${s.intrusionAt} -> the county never had the alarm`;
  const alarm = `intrusion ${s.intrusionAt} -> county had the alarm in ${s.alarmMs} ms`;
  if (s.pictureMs === null || s.pictureBytes === null) return `${alarm}, but not the picture`;
  const kb = Math.round(s.pictureBytes / 1024);
  const took = s.pictureMs < 1000 ? `${s.pictureMs} ms` : `${(s.pictureMs / 1000).toFixed(1)} s`;
  return `${alarm} and the picture (${kb} KB, sha256 ${s.sha256ok ? 'ok' : 'WRONG'}) in ${took}`;
}
