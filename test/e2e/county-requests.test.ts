/**
 * The county asks for pictures (issue 19, "on-request" and privacy), end to end on real peers:
 * a simulated Hikvision camera, the real agent under media.upload.mode on-request, and a county
 * on a real broker that sends `snapshot` and `picture` commands. The pictures arrive whole
 * (sha256) at the county's assembler, every request arrives as media.requested, a flood of
 * snapshots is limited and each still answered, and hostile arguments are refused by code.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CountySubscriber, ReceivedEvent } from '../../scripts/county-subscriber.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCameraRig, type CameraRigOptions } from '../helpers/camera-rig.js';
import { startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

interface Reply {
  id: string;
  ok: boolean;
  result?: { pictureId: string; bytes: number; sha256: string; queued: boolean; camera: string };
  error?: { code: string; message: string };
}

/** The county's operator: sends commands to gw-test and collects the replies by id. */
async function operator(county: CountySubscriber) {
  const replies = new Map<string, Reply>();
  county.client!.on('message', (t, p) => {
    if (!t.startsWith('village/gw-test/cmd-reply/')) return;
    const r = JSON.parse(p.toString()) as Reply;
    replies.set(r.id ?? '', r); // a payload too large to read has no id
  });
  await county.client!.subscribeAsync('village/gw-test/cmd-reply/+', { qos: 1 });
  const send = (name: string, id: string, args: unknown, raw?: string) =>
    county.client!.publishAsync(
      `village/gw-test/cmd/${name}`,
      raw ?? JSON.stringify({ id, sentAt: Date.now(), args }),
      { qos: 1 },
    );
  const ask = async (name: string, id: string, args: unknown, raw?: string): Promise<Reply> => {
    await send(name, id, args, raw);
    await waitUntil(() => replies.has(id), 20_000, `the reply to ${id}`);
    return replies.get(id)!;
  };
  return { replies, send, ask };
}

/** A county with its operator, and the agent with its Hikvision gate camera under this upload mode. */
async function village(mode: 'auto' | 'on-request' | 'off', more: Partial<CameraRigOptions> = {}) {
  const county = await startCounty(brokerRef.current.url, cleanup);
  const op = await operator(county);
  const r = await openCameraRig({
    brokerUrl: brokerRef.current.url,
    dir: tempDir(),
    cleanup,
    sim: { brand: 'hikvision' },
    config: { media: { upload: { mode } } },
    ...more,
  });
  return { county, op, r };
}

/** A camera whose profile names no snapshot (the built-in Hikvision one without it), in `dir`/profiles. */
function blindCamera(dir: string) {
  const builtin = readFileSync(
    fileURLToPath(new URL('../../config/profiles/hikvision-isapi.yaml', import.meta.url)),
    'utf8',
  );
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  const blind = builtin.replace(/^id: .*$/m, 'id: blind-cam').replace(/^snapshot: .*$/m, '');
  writeFileSync(join(dir, 'profiles', 'blind-cam.yaml'), blind);
  // Nothing listens on port 1: the camera stays offline, which a refusal by its profile does not need.
  return {
    id: 'blind-cam',
    driver: 'camera' as const,
    profile: 'blind-cam',
    host: '127.0.0.1',
    port: 1,
    user: 'admin',
    password: { env: 'VG_TEST_CAMERA_PASSWORD' },
    reconnect: { minMs: 1000, maxMs: 5000 },
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const requestsOf = (county: CountySubscriber): ReceivedEvent[] =>
  [...county.events.values()].filter((e) => e.type === 'media.requested');

describe('county requests for pictures', () => {
  it(
    'on-request: a snapshot and a stored alarm picture go when asked, whole, each request recorded; a flood is limited, each answered',
    { timeout: 60_000 },
    async () => {
      const { county, op, r } = await village('on-request');

      // A fresh snapshot: the reply names the picture, and the county gets it whole although the mode sends nothing by itself.
      const snap = await op.ask('snapshot', 's1', { camera: 'gate-cam', by: 'officer Li' });
      expect(snap.ok, JSON.stringify(snap.error)).toBe(true);
      const shot = snap.result!;
      expect(shot).toMatchObject({ camera: 'gate-cam', queued: true });
      // Polled: the picture's chunks are not events, and waitFor checks only at events.
      await waitUntil(() => county.pictures.has(shot.pictureId), 15_000, 'the snapshot whole at the county');
      const got = county.pictures.get(shot.pictureId)!;
      expect(sha(got.bytes)).toBe(shot.sha256);
      expect(got).toMatchObject({ size: shot.bytes, cameraId: 'gate-cam', eventId: null });
      await county.waitFor(
        () => requestsOf(county).some((e) => (e.data as { command: string }).command === 's1'),
        10_000,
      );
      expect(requestsOf(county).find((e) => (e.data as { command: string }).command === 's1')).toMatchObject({
        deviceId: 'gate-cam',
        data: {
          request: 'county',
          by: 'officer Li',
          what: 'snapshot',
          camera: 'gate-cam',
          pictureId: shot.pictureId,
          outcome: 'queued',
          code: null,
          bytes: shot.bytes,
        },
      });
      await county.waitFor(
        () => [...county.events.values()].some((e) => e.type === 'camera.picture' && e.deviceId === 'gate-cam'),
        10_000,
      );
      const announced = [...county.events.values()].find((e) => e.type === 'camera.picture')!;
      expect(announced.data).toMatchObject({
        picture: { id: shot.pictureId, sha256: shot.sha256, alarm: false },
        cause: { request: 'county', command: 's1', by: 'officer Li' },
      });

      // An alarm's picture is stored and announced, but under on-request its bytes wait for a request.
      for (let i = 0; !r.rig.events.some((e) => e.type === 'camera.picture' && e.id !== announced.id); i++) {
        if (i === 10) throw new Error('no alarm picture after 10 tries');
        r.sim.event({ code: 'linedetection', state: 'active', channel: 1, region: 'Gate' });
        await new Promise((res) => setTimeout(res, 1000));
      }
      const alarmPic = r.rig.events.find((e) => e.type === 'camera.picture' && e.id !== announced.id)!.data as {
        picture: { id: string; sha256: string; bytes: number };
      };
      await county.waitFor(
        () => county.events.has(r.rig.events.find((e) => e.type === 'camera.picture' && e.id !== announced.id)!.id),
        10_000,
      );
      await new Promise((res) => setTimeout(res, 1000)); // an absence: only waiting shows the picture did not go by itself
      expect(county.pictures.has(alarmPic.picture.id)).toBe(false);
      const asked = await op.ask('picture', 'p1', { pictureId: alarmPic.picture.id });
      expect(asked.ok, JSON.stringify(asked.error)).toBe(true);
      expect(asked.result).toMatchObject({
        pictureId: alarmPic.picture.id,
        bytes: alarmPic.picture.bytes,
        queued: true,
      });
      await waitUntil(() => county.pictures.has(alarmPic.picture.id), 15_000, 'the alarm picture whole at the county');
      expect(sha(county.pictures.get(alarmPic.picture.id)!.bytes)).toBe(alarmPic.picture.sha256);
      await county.waitFor(
        () => requestsOf(county).some((e) => (e.data as { command: string }).command === 'p1'),
        10_000,
      );
      expect(requestsOf(county).find((e) => (e.data as { command: string }).command === 'p1')!.data).toMatchObject({
        what: 'picture',
        pictureId: alarmPic.picture.id,
        outcome: 'queued',
        by: null,
      });

      // A flood of snapshots: every one answered, at most the burst taken, the rest refused saying when next.
      const flood = Array.from({ length: 20 }, (_, i) => `f${i}`);
      await Promise.all(flood.map((id) => op.send('snapshot', id, { camera: 'gate-cam' })));
      await waitUntil(() => flood.every((id) => op.replies.has(id)), 30_000, 'every flood reply');
      const floodReplies = flood.map((id) => op.replies.get(id)!);
      const limited = floodReplies.filter((x) => x.error?.code === 'RATE_LIMITED');
      expect(floodReplies.filter((x) => x.ok).length).toBeLessThanOrEqual(2);
      expect(limited.length).toBeGreaterThanOrEqual(18);
      expect(limited[0]!.error!.message).toMatch(/the next in \d+ s/);
      // The status counts every request, those recorded only as a count too.
      const counts = (r.rig.agent.observe.status()['media'] as { requests: Record<string, number> }).requests;
      expect(counts['refused']).toBe(limited.length);
      expect(counts['queued']).toBe(2 + floodReplies.filter((x) => x.ok).length);
      // Refusals recorded up to their budget, the rest counted in a later record.
      await county.waitFor(
        () => requestsOf(county).filter((e) => (e.data as { outcome: string }).outcome === 'refused').length >= 5,
        10_000,
      );
    },
  );

  it(
    'hostile arguments are refused by code: a path-like picture id never reaches the store',
    { timeout: 40_000 },
    async () => {
      const dir = tempDir();
      const { county, op } = await village('auto', { dir, panic: true, more: [blindCamera(dir)] });
      const code = async (name: string, id: string, args: unknown, raw?: string) =>
        (await op.ask(name, id, args, raw)).error?.code;
      expect(await code('picture', 'h1', { pictureId: '../../etc/passwd' })).toBe('INVALID_ARGS');
      expect(await code('picture', 'h2', { pictureId: `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}` })).toBe(
        'MEDIA_NOT_FOUND',
      );
      expect(await code('picture', 'h3', { pictureId: 42 })).toBe('INVALID_ARGS');
      expect(await code('picture', 'h4', { pictureId: ['a'] })).toBe('INVALID_ARGS');
      expect(await code('snapshot', 'h5', { camera: 'gate-cam', by: 'x'.repeat(10_000) })).toBe('INVALID_ARGS');
      expect(await code('snapshot', 'h6', { camera: '../gate-cam' })).toBe('INVALID_ARGS');
      expect(await code('snapshot', 'h7', { camera: 'gate-cam', channel: 0 })).toBe('INVALID_ARGS');
      expect(await code('snapshot', 'h8', { camera: 'gate-cam', extra: true })).toBe('INVALID_ARGS');
      expect(await code('snapshot', 'h9', { camera: 'no-such-cam' })).toBe('UNKNOWN_DEVICE');
      expect(await code('snapshot', 'h11', { camera: 'house-7-board' })).toBe('NO_CAMERA');
      expect(await code('snapshot', 'h12', { camera: 'blind-cam' })).toBe('NO_SNAPSHOT');
      // A fresh picture is an actuation: one that does not say how long it is good for could be a day old.
      const unbounded = JSON.stringify({ id: 'h13', args: { camera: 'gate-cam' } });
      expect(await code('snapshot', 'h13', null, unbounded)).toBe('NO_EXPIRY');
      // Over the size limit: refused before it is read, so the reply has no id.
      const huge = JSON.stringify({ id: 'h10', args: { camera: 'a'.repeat(70_000) } });
      expect(await code('snapshot', '', {}, huge)).toBe('TOO_LARGE');
      // The refused requests that got past their arguments are recorded; the malformed ones never reached a handler.
      await county.waitFor(() => requestsOf(county).length >= 4, 10_000);
      expect(
        requestsOf(county)
          .map((e) => (e.data as { code: string }).code)
          .sort(),
      ).toEqual(['MEDIA_NOT_FOUND', 'NO_CAMERA', 'NO_SNAPSHOT', 'UNKNOWN_DEVICE']);
    },
  );

  it(
    'under media.upload.mode off a snapshot and a picture are refused with MEDIA_OFF, and recorded',
    { timeout: 30_000 },
    async () => {
      const { county, op, r } = await village('off');
      const asked = r.sim.snapshots.served;
      expect((await op.ask('snapshot', 'o1', { camera: 'gate-cam', by: 'desk 3' })).error?.code).toBe('MEDIA_OFF');
      const id = `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`;
      expect((await op.ask('picture', 'o2', { pictureId: id })).error?.code).toBe('MEDIA_OFF');
      await county.waitFor(() => requestsOf(county).length >= 2, 10_000);
      expect(requestsOf(county).map((e) => e.data)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            command: 'o1',
            by: 'desk 3',
            outcome: 'refused',
            code: 'MEDIA_OFF',
            camera: 'gate-cam',
          }),
          expect.objectContaining({ command: 'o2', what: 'picture', outcome: 'refused', code: 'MEDIA_OFF' }),
        ]),
      );
      expect(r.sim.snapshots.served).toBe(asked); // the camera was never asked
    },
  );
});
