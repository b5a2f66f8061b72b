/**
 * A picture with every alarm that matters (issue 19, item 2), through the real agent against
 * simulated cameras: an alarm-class camera event and a rule's `snapshot` action each store the
 * camera's JPEG in dataDir/media and report it as camera.picture (after the event that asked);
 * hostile snapshots are refused, counted and logged once; a panic press is not slowed by a
 * slow picture; the media folder's cap holds.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { paddedJpeg, type SnapshotMode } from '../../scripts/simulators/camera-snapshot-sim.js';
import { cameraRig, logged, openCameraRig, type CameraRig, type CameraRigOptions } from '../helpers/camera-rig.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

interface PictureData {
  picture: { id: string; bytes: number; sha256: string; takenAt: number; channel: number; alarm: boolean };
  cause: { event?: string | null; type?: string | null; rule?: string };
}

const rigFor = (o: Partial<CameraRigOptions> & Pick<CameraRigOptions, 'sim'>) => {
  const dir = tempDir();
  return openCameraRig({ brokerUrl: brokerRef.current.url, dir, cleanup, ...o }).then((r) => ({ ...r, dir }));
};

const snapshotsOf = (r: CameraRig) =>
  r.rig.agent.drivers.find((d) => d.describe().driver === 'camera')!.describe().detail!.snapshots as Record<
    string,
    number
  >;

/** The stored file of a picture, found by its id in dataDir/media. */
function storedFile(dir: string, id: string): Buffer {
  const name = readdirSync(join(dir, 'media')).find((n) => n.includes(id));
  if (!name) throw new Error(`no file for picture ${id}`);
  return readFileSync(join(dir, 'media', name));
}

const pictureOf = (e: GatewayEvent) => e.data as unknown as PictureData;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('camera pictures', () => {
  it('a Hikvision line crossing: the event, then its picture from the substream, stored whole', async () => {
    const r = await rigFor({ sim: { brand: 'hikvision' } });
    r.sim.event({ code: 'linedetection', state: 'active', channel: 1, region: '1' });
    const crossed = await r.rig.waitFor((e) => e.type === 'camera.line_crossed');
    const pic = await r.rig.waitFor((e) => e.type === 'camera.picture', 5000, 'the picture');
    const data = pictureOf(pic);
    expect(pic.deviceId).toBe('gate-cam');
    expect(data.cause).toEqual({ event: crossed.id, type: 'camera.line_crossed' });
    expect(data.picture).toMatchObject({ bytes: r.sim.snapshots.jpeg.length, channel: 1, alarm: true });
    expect(data.picture.sha256).toBe(sha(r.sim.snapshots.jpeg));
    expect(sha(storedFile(r.dir, data.picture.id))).toBe(data.picture.sha256);
    expect(r.sim.snapshots.paths).toEqual(['/ISAPI/Streaming/channels/102/picture']);
    // The event that asked went first.
    expect(r.rig.events.indexOf(crossed)).toBeLessThan(r.rig.events.indexOf(pic));
    expect(pic.seq).toBeGreaterThan(crossed.seq);
    expect(r.logs).toEqual([]);
  });

  it('a Dahua intrusion: its picture from snapshot.cgi; motion (no alarm) takes none', async () => {
    const r = await rigFor({ sim: { brand: 'dahua' } });
    r.sim.event({ code: 'VideoMotion', state: 'Start', channel: 0 });
    await r.rig.waitFor((e) => e.type === 'camera.motion');
    r.sim.event({ code: 'CrossRegionDetection', state: 'Start', channel: 0, region: 'Gate' });
    const intrusion = await r.rig.waitFor((e) => e.type === 'camera.intrusion');
    const pic = await r.rig.waitFor((e) => e.type === 'camera.picture', 5000, 'the picture');
    const data = pictureOf(pic);
    expect(data.cause).toEqual({ event: intrusion.id, type: 'camera.intrusion' });
    expect(sha(storedFile(r.dir, data.picture.id))).toBe(data.picture.sha256);
    expect(r.sim.snapshots.paths).toEqual(['/cgi-bin/snapshot.cgi?channel=1']);
    // A tamper is an alarm: a picture when it begins, none when it ends.
    r.sim.event({ code: 'VideoBlind', state: 'Start', channel: 0 });
    r.sim.event({ code: 'VideoBlind', state: 'Stop', channel: 0 });
    await r.rig.waitFor((e) => e.type === 'camera.tamper_ended');
    await waitUntil(() => r.rig.events.filter((e) => e.type === 'camera.picture').length === 2, 5000, '2 pictures');
    await new Promise((res) => setTimeout(res, 300));
    expect(r.rig.events.filter((e) => e.type === 'camera.picture')).toHaveLength(2);
    expect(r.sim.snapshots.served).toBe(2);
  });

  it('pictures asked for together go one at a time (Dahua wedges on concurrent requests)', async () => {
    const r = await rigFor({ sim: { brand: 'dahua' } });
    r.sim.snapshots.delayMs = 100;
    for (const region of ['A', 'B', 'C', 'D'])
      r.sim.event({ code: 'CrossLineDetection', state: 'Start', channel: 0, region });
    await waitUntil(() => r.rig.events.filter((e) => e.type === 'camera.picture').length === 4, 8000, '4 pictures');
    expect(r.sim.snapshots.concurrentMax).toBe(1);
    expect(snapshotsOf(r).queuedMax).toBeGreaterThan(1);
  });

  it("a rule's snapshot action on a Modbus panic press takes the gate camera's picture", async () => {
    const r = await rigFor({
      sim: { brand: 'hikvision' },
      panic: true,
      config: {
        rules: [
          {
            id: 'panic-gate-picture',
            when: { type: 'alarm.pressed' },
            actions: [{ do: 'snapshot', camera: 'gate-cam' }],
          },
        ],
      },
    });
    await r.press!();
    const pressed = await r.rig.waitFor((e) => e.type === 'alarm.pressed');
    const pic = await r.rig.waitFor((e) => e.type === 'camera.picture', 5000, 'the gate picture');
    const data = pictureOf(pic);
    expect(pic.deviceId).toBe('gate-cam');
    expect(data.cause).toEqual({ rule: 'panic-gate-picture', event: pressed.id, type: 'alarm.pressed' });
    expect(sha(storedFile(r.dir, data.picture.id))).toBe(sha(r.sim.snapshots.jpeg));
  });

  it("a panic press whose rule asks a slow camera for its picture is not slowed, nor is the rule's alert", async () => {
    const r = await rigFor({
      sim: { brand: 'dahua' },
      device: { snapshotTimeoutMs: 2000 },
      panic: true,
      config: {
        rules: [
          {
            id: 'panic-gate',
            when: { type: 'alarm.pressed' },
            cooldownSec: 0,
            actions: [
              { do: 'snapshot', camera: 'gate-cam' },
              { do: 'alert', message: 'house 7 panic' },
            ],
          },
        ],
      },
    });
    r.sim.snapshots.mode = 'slow-drip';
    const presses = [await r.press!(), await r.press!(), await r.press!()];
    expect(Math.max(...presses)).toBeLessThan(1000);
    await r.rig.waitFor((e) => e.type === 'alert.raised', 1000, 'the alert, while the pictures drip');
    expect(r.sim.snapshots.concurrentMax).toBe(1); // three pictures asked, one request at a time
    await waitUntil(() => (snapshotsOf(r).failed ?? 0) >= 1, 5000, 'the slow picture given up');
    expect(logged(r.logs, 'CAMERA_SNAPSHOT_FAILED')).toHaveLength(1);
  });

  const hostile: { mode: SnapshotMode; code: string; counted: string }[] = [
    { mode: 'html', code: 'CAMERA_SNAPSHOT_NOT_JPEG', counted: 'notJpeg' },
    { mode: 'json', code: 'CAMERA_SNAPSHOT_NOT_JPEG', counted: 'notJpeg' },
    { mode: 'endless', code: 'CAMERA_SNAPSHOT_TOO_LARGE', counted: 'tooLarge' },
    { mode: 'huge', code: 'CAMERA_SNAPSHOT_TOO_LARGE', counted: 'tooLarge' },
    { mode: 'slow-drip', code: 'CAMERA_SNAPSHOT_FAILED', counted: 'failed' },
  ];
  it.each(hostile)('a $mode snapshot is refused, counted, logged once; a press is not slowed', async (c) => {
    const r = await rigFor({
      sim: { brand: 'hikvision' },
      device: { snapshotTimeoutMs: 1500 },
      panic: true,
    });
    r.sim.snapshots.mode = c.mode;
    r.sim.event({ code: 'fielddetection', state: 'active', channel: 1, region: '1' });
    await r.rig.waitFor((e) => e.type === 'camera.intrusion');
    const presses = [await r.press!(), await r.press!()]; // while the picture is being refused (or dripping)
    r.sim.event({ code: 'linedetection', state: 'active', channel: 1, region: '2' });
    await waitUntil(() => (snapshotsOf(r).failed ?? 0) >= 2, 8000, `${c.mode} refused twice`);
    expect(snapshotsOf(r)[c.counted] ?? 0).toBeGreaterThanOrEqual(2);
    expect(snapshotsOf(r).taken).toBe(0);
    expect(Math.max(...presses)).toBeLessThan(1000);
    expect(logged(r.logs, c.code)).toHaveLength(1); // twice refused, once logged
    expect(r.logs.filter((l) => l.code !== c.code)).toEqual([]);
    expect(r.rig.events.some((e) => e.type === 'camera.picture')).toBe(false);
    expect(readdirSync(join(r.dir, 'media'))).toEqual([]);
  });

  it('a real JPEG under a wrong Content-Type is taken (the bytes decide)', async () => {
    const r = await rigFor({ sim: { brand: 'dahua' } });
    r.sim.snapshots.mode = 'wrong-type';
    r.sim.event({ code: 'CrossLineDetection', state: 'Start', channel: 0 });
    const pic = await r.rig.waitFor((e) => e.type === 'camera.picture', 5000, 'the picture');
    expect(pictureOf(pic).picture.sha256).toBe(sha(r.sim.snapshots.jpeg));
  });

  it("the media folder's cap holds: the oldest pictures go", async () => {
    const r = await rigFor({ sim: { brand: 'hikvision' }, config: { media: { maxBytes: 1024 * 1024 } } });
    r.sim.snapshots.jpeg = paddedJpeg(r.sim.snapshots.jpeg, 300 * 1024);
    const pics: GatewayEvent[] = [];
    for (let i = 1; i <= 5; i++) {
      r.sim.event({ code: 'linedetection', state: 'active', channel: 1, region: String(i) });
      await waitUntil(() => r.rig.events.filter((e) => e.type === 'camera.picture').length === i, 5000, `picture ${i}`);
    }
    pics.push(...r.rig.events.filter((e) => e.type === 'camera.picture'));
    const files = readdirSync(join(r.dir, 'media'));
    const total = files.reduce((n, f) => n + readFileSync(join(r.dir, 'media', f)).length, 0);
    expect(total).toBeLessThanOrEqual(1024 * 1024);
    expect(files).toHaveLength(3);
    // The newest three stayed.
    for (const p of pics.slice(2)) expect(files.some((f) => f.includes(pictureOf(p).picture.id))).toBe(true);
  });

  it('a media folder that cannot be opened costs the pictures, never the agent or its alarms', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'media'), 'a file where the folder should be');
    const r = await openCameraRig({ brokerUrl: brokerRef.current.url, dir, cleanup, sim: { brand: 'hikvision' } });
    r.sim.event({ code: 'fielddetection', state: 'active', channel: 1, region: '1' });
    r.sim.event({ code: 'linedetection', state: 'active', channel: 1, region: '1' });
    await r.rig.waitFor((e) => e.type === 'camera.line_crossed');
    await waitUntil(() => logged(r.logs, 'MEDIA_NO_ROOM').length === 2, 3000, 'the folder and the first picture');
    await new Promise((res) => setTimeout(res, 200));
    expect(logged(r.logs, 'MEDIA_NO_ROOM')).toHaveLength(2); // once at start, once for the pictures
    expect(r.sim.snapshots.served).toBe(0); // nothing fetched that could not be kept
    expect(r.rig.events.some((e) => e.type === 'camera.picture')).toBe(false);
  });

  it('a camera that refused the password is not asked for pictures (its account lock comes no nearer)', async () => {
    const r = await cameraRig({
      brokerUrl: brokerRef.current.url,
      dir: tempDir(),
      cleanup,
      sim: { brand: 'hikvision', password: 'right-one' },
      device: { password: 'wrong-one', authRetry: { minMs: 60000, maxMs: 60000 } },
      panic: true,
      config: {
        rules: [{ id: 'p', when: { type: 'alarm.pressed' }, actions: [{ do: 'snapshot', camera: 'gate-cam' }] }],
      },
    });
    await r.rig.waitFor((e) => e.type === 'device.offline' && e.deviceId === 'gate-cam');
    const failed = r.sim.failedLogins.length;
    await r.press!();
    await waitUntil(() => logged(r.logs, 'CAMERA_SNAPSHOT_FAILED').length === 1, 3000, 'the picture refused');
    expect(r.sim.failedLogins.length).toBe(failed);
    expect(r.sim.snapshots.served).toBe(0);
  });
});
