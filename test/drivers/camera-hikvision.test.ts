/** Hikvision ISAPI alertStream through the real camera driver and the agent's pipeline, against a simulated camera. */
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { cameraRig, openCameraRig, turnHostile, type CameraRigOptions } from '../helpers/camera-rig.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

const hikvision = (over: Partial<CameraRigOptions> = {}) =>
  openCameraRig({ brokerUrl: brokerRef.current.url, dir: tempDir(), cleanup, sim: { brand: 'hikvision' }, ...over });

const camDetail = (r: Awaited<ReturnType<typeof cameraRig>>) =>
  r.rig.agent.drivers.find((d) => d.describe().driver === 'camera')!.describe();

describe('Hikvision ISAPI camera', () => {
  it('turns alertStream parts into typed camera events, by the profile', async () => {
    const r = await hikvision();
    const { sim, rig } = r;
    const t0 = Date.now();
    sim.event({ code: 'VMD', state: 'active', channel: 1, cameraTime: '2017-12-01T09:01:18-6:00' });
    const motion = await rig.waitFor((e) => e.type === 'camera.motion');
    expect(motion.deviceId).toBe('gate-cam');
    expect(motion.priority).toBe('normal'); // the profile does not call motion an alarm
    expect(motion.data).toEqual({
      protocol: 'hikvision-isapi',
      code: 'VMD',
      channel: 1,
      region: null,
      cameraTime: '2017-12-01T09:01:18-6:00',
      alarm: false,
      count: 1,
    });
    // The envelope's time is the gateway's, whatever the camera's clock says.
    expect(Date.parse(motion.ts)).toBeGreaterThanOrEqual(t0 - 1000);
    sim.event({ code: 'VMD', state: 'active', channel: 1 }); // Hikvision repeats while the motion lasts
    sim.event({ code: 'VMD', state: 'inactive', channel: 1 });
    const ended = await rig.waitFor((e) => e.type === 'camera.motion_ended');
    expect(ended.data).toMatchObject({ code: 'VMD', channel: 1, count: 2 });
    expect(rig.events.filter((e) => e.type === 'camera.motion')).toHaveLength(1);

    sim.event({ code: 'linedetection', state: 'active', channel: 1, region: '1' });
    sim.event({ code: 'linedetection', state: 'inactive', channel: 1, region: '1' }); // says nothing new
    sim.event({ code: 'fielddetection', state: 'active', channel: 1, region: '2' });
    sim.event({ code: 'tamperdetection', state: 'active', channel: 1 });
    sim.event({ code: 'videoloss', state: 'active', channel: 1 });
    sim.event({ code: 'IO', state: 'active', channel: 2 });
    sim.event({ code: 'IO', state: 'inactive', channel: 2 });
    sim.event({ code: 'diskfull', state: 'active', channel: 1 }); // not in the profile
    const input = await rig.waitFor((e) => e.type === 'camera.alarm_input_ended');
    const of = (type: string): GatewayEvent => rig.events.find((e) => e.type === type)!;
    expect(of('camera.line_crossed')).toMatchObject({ priority: 'high', data: { region: '1', alarm: true } });
    expect(of('camera.intrusion')).toMatchObject({ priority: 'high', data: { code: 'fielddetection', region: '2' } });
    expect(of('camera.tamper').data).toMatchObject({ code: 'tamperdetection', alarm: true });
    expect(of('camera.video_lost').data).toMatchObject({ code: 'videoloss', channel: 1 });
    expect(of('camera.alarm_input').data).toMatchObject({ code: 'IO', channel: 2, alarm: true });
    expect(input.data).toMatchObject({ channel: 2, count: 1 });
    expect(rig.events.some((e) => e.type.startsWith('camera.line_crossed_'))).toBe(false); // a pulse has no end
    await waitUntil(() => (camDetail(r).detail!.heartbeats as number) > 0, 3000, 'a heartbeat');
    const detail = camDetail(r).detail!; // heartbeats keep it alive but are no events
    expect(detail.unmapped).toBe(1);
    expect(rig.events.filter((e) => e.deviceId === 'gate-cam' && e.type.startsWith('device.'))).toEqual([]);
    expect(r.logs).toEqual([]);
  });

  it('backs off on a wrong password without locking the account, and comes online once it is right', async () => {
    const r = await cameraRig({
      brokerUrl: brokerRef.current.url,
      dir: tempDir(),
      cleanup,
      sim: { brand: 'hikvision', password: 'right-one', lockAfter: 5 },
      device: { password: 'wrong-one', authRetry: { minMs: 400, maxMs: 5000 } },
    });
    const off = await r.rig.waitFor((e) => e.type === 'device.offline');
    expect(off.data).toMatchObject({
      host: '127.0.0.1',
      protocol: 'hikvision-isapi',
      reason: 'auth',
      code: 'CAMERA_AUTH_REFUSED',
    });
    await new Promise((res) => setTimeout(res, 3500));
    const tries = r.sim.failedLogins;
    // 400, 800, 1600 ms...: at most 4 tries in 3.5 s, where a retry each reconnect (100 ms) would be 30.
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(tries.length).toBeLessThanOrEqual(4);
    expect(r.sim.locked).toBe(false);
    const gaps = tries.slice(1).map((t, i) => t - tries[i]!);
    // Each wait at least the backoff's (400, 800, 1600 ms less 10 % jitter), however slow the machine.
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(0.9 * 400 * 2 ** i));
    expect(r.rig.events.filter((e) => e.type === 'device.offline')).toHaveLength(1);
    expect(r.logs.filter((l) => l.code === 'CAMERA_AUTH_REFUSED')).toHaveLength(1);
    expect(JSON.stringify(r.logs)).not.toContain('wrong-one'); // a password is never logged
    r.sim.setPassword('wrong-one'); // the technician fixes the camera side
    const on = await r.rig.waitFor((e) => e.type === 'device.online', 8000);
    expect(on.data).toEqual({ host: '127.0.0.1', protocol: 'hikvision-isapi', reason: 'stream' });
    expect(r.sim.locked).toBe(false);
  });

  it('reconnects after a stream cut mid-part, and after a silent stream, offline and online with reasons', async () => {
    const r = await hikvision();
    r.sim.event({ code: 'VMD', state: 'active', channel: 1 });
    await r.rig.waitFor((e) => e.type === 'camera.motion');
    r.sim.cutMidPart({ code: 'linedetection', state: 'active', channel: 1 });
    const off = await r.rig.waitFor((e) => e.type === 'device.offline');
    expect(off.data).toMatchObject({ reason: 'closed', code: 'ECONNRESET' });
    await r.rig.waitFor((e) => e.type === 'device.online');
    expect(r.sim.connections).toBe(2);
    expect(r.rig.events.some((e) => e.type === 'camera.line_crossed')).toBe(false); // half a part is no event
    r.sim.event({ code: 'linedetection', state: 'active', channel: 1 });
    await r.rig.waitFor((e) => e.type === 'camera.line_crossed');
    // The motion's end went with the stream: the next start is news, not a repeat.
    r.sim.event({ code: 'VMD', state: 'active', channel: 1 });
    await waitUntil(() => r.rig.events.filter((e) => e.type === 'camera.motion').length === 2, 3000, 'motion again');
    // A camera that keeps the connection but sends no whole part: offline "silent" after the idle time.
    turnHostile(r, 'slow-drip');
    const silent = await r.rig.waitFor(
      (e) => e.type === 'device.offline' && (e.data as { reason: string }).reason === 'silent',
      8000,
    );
    expect(silent.data).toMatchObject({ code: 'CAMERA_STREAM_LOST', error: 'no part for 1500 ms' });
    const offs = r.rig.events
      .filter((e) => e.type === 'device.offline')
      .map((e) => (e.data as { reason: string }).reason);
    const ons = r.rig.events.filter((e) => e.type === 'device.online');
    expect(offs).toEqual(['closed', 'closed', 'silent']);
    expect(ons).toHaveLength(1); // a stream that never brings a whole part is never online
  });

  it('falls back to the legacy /Event/notification/alertStream on old firmware (404 under /ISAPI)', async () => {
    const r = await hikvision({ sim: { brand: 'hikvision', legacyPath: true, auth: 'both' } });
    r.sim.event({ code: 'fielddetection', state: 'active', channel: 1 });
    const ev = await r.rig.waitFor((e) => e.type === 'camera.intrusion');
    expect(ev.data).toMatchObject({ protocol: 'hikvision-isapi', code: 'fielddetection' });
    expect(r.rig.events.filter((e) => e.type.startsWith('device.'))).toEqual([]);
    expect(r.logs).toEqual([]);
  });
});
