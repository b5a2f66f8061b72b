/**
 * ONVIF PullPoint through the real camera driver and the agent's pipeline, against a
 * simulated ONVIF camera on a real HTTP server (scripts/simulators/camera-onvif-sim.ts).
 */
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import type { OnvifSimEvent } from '../../scripts/simulators/camera-onvif-sim.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { onvifCounts, onvifRig, type OnvifRigOptions } from '../helpers/onvif-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

const onvif = (o: Omit<OnvifRigOptions, 'brokerUrl' | 'dir' | 'cleanup'> = {}) =>
  onvifRig({ brokerUrl: brokerRef.current.url, dir: tempDir(), cleanup, ...o });

const motion = (on: boolean, rule = 'MyMotion', operation?: OnvifSimEvent['operation']): OnvifSimEvent => ({
  topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
  source: { VideoSourceConfigurationToken: '000', VideoAnalyticsConfigurationToken: '000', Rule: rule },
  data: { IsMotion: String(on) },
  ...(operation ? { operation } : {}),
});
const input = (on: boolean, operation?: OnvifSimEvent['operation']): OnvifSimEvent => ({
  topic: 'tns1:Device/Trigger/DigitalInput',
  source: { InputToken: 'DIN1' },
  data: { LogicalState: String(on) },
  ...(operation ? { operation } : {}),
});
const crossed: OnvifSimEvent = {
  topic: 'tns1:RuleEngine/LineDetector/Crossed//.', // trailing junk as some firmware sends it
  source: { Rule: 'GateLine' },
  data: { State: 'true' },
  operation: null,
};

const ofType = (events: GatewayEvent[], type: string) => events.filter((e) => e.type === type);

describe('ONVIF PullPoint camera', () => {
  it('maps topics by the profile; the Initialized burst at subscribe raises nothing', async () => {
    const r = await onvif({ before: (sim) => (sim.initial = [motion(true), input(false)]) });
    expect(r.sim.counts.subscribes).toBe(1);
    r.sim.event(motion(false)); // the end of a state first seen as Initialized: silent too
    r.sim.event(crossed);
    const line = await r.rig.waitFor((e) => e.type === 'camera.line_crossed');
    expect(line).toMatchObject({ priority: 'high', deviceId: 'gate-cam' });
    expect(line.data).toMatchObject({
      protocol: 'onvif',
      code: 'RuleEngine/LineDetector/Crossed',
      channel: null,
      region: 'GateLine',
      alarm: true,
      count: 1,
    });
    expect((line.data as { cameraTime: string }).cameraTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    r.sim.event({
      topic: 'tns1:RuleEngine/FieldDetector/ObjectsInside',
      source: { Rule: 'Yard' },
      data: { IsInside: 'true' },
    });
    r.sim.event({
      topic: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
      source: { Source: '0' },
      data: { State: 'true' },
    });
    r.sim.event(input(true));
    r.sim.event(input(false));
    r.sim.event(motion(true, 'Road'));
    r.sim.event(motion(false, 'Road'));
    await r.rig.waitFor((e) => e.type === 'camera.motion_ended');
    await r.rig.waitFor((e) => e.type === 'camera.alarm_input_ended');
    expect(ofType(r.rig.events, 'camera.intrusion')[0]!.data).toMatchObject({ region: 'Yard', alarm: true });
    expect(ofType(r.rig.events, 'camera.tamper')[0]!.data).toMatchObject({
      code: 'VideoSource/GlobalSceneChange/ImagingService',
    });
    expect(ofType(r.rig.events, 'camera.alarm_input')[0]!.data).toMatchObject({ region: 'DIN1', alarm: true });
    // Only the Changed motion on "Road": the Initialized MyMotion neither started nor ended one.
    expect(ofType(r.rig.events, 'camera.motion').map((e) => (e.data as { region: string }).region)).toEqual(['Road']);
    expect(ofType(r.rig.events, 'camera.motion_ended')).toHaveLength(1);
    expect(r.rig.events.filter((e) => e.type.startsWith('device.'))).toEqual([]);
  });

  it("signs with the camera's clock: two hours off still authenticates, and a clock that jumps is read again", async () => {
    const twoHours = 2 * 3600_000;
    const r = await onvif({ sim: { clockSkewMs: twoHours, windowMs: 5000, grantMs: 1000 } });
    expect(r.sim.refused).toEqual([]);
    expect(onvifCounts(r).clockOffsetMs).toBeGreaterThan(twoHours - 2000);
    expect(onvifCounts(r).clockOffsetMs).toBeLessThan(twoHours + 2000);
    r.sim.event(crossed);
    await r.rig.waitFor((e) => e.type === 'camera.picture', 8000); // its picture asked for with the same signature
    r.sim.setSkew(-5 * 3600_000); // a power cut: the camera's clock is set back
    const reads = onvifCounts(r).clockReads;
    await waitUntil(
      () => onvifCounts(r).renews >= 2 && onvifCounts(r).clockReads > reads,
      5000,
      'a renew after a re-read',
    );
    expect(r.sim.refused.length).toBe(1); // the one stale call (a pull or a renew), then the clock read again
    expect(r.rig.events.filter((e) => e.type === 'device.offline')).toEqual([]);
  });

  it('a wrong password backs off long (the camera counts few refused tries), then comes back', async () => {
    const r = await onvif({ before: (sim) => sim.setPassword('other-pass'), open: false });
    const off = await r.rig.waitFor((e) => e.type === 'device.offline');
    expect(off.data).toMatchObject({ protocol: 'onvif', reason: 'auth', code: 'CAMERA_AUTH_REFUSED' });
    await new Promise((res) => setTimeout(res, 3000));
    // One refused call a try (the clock was just read: no second try for the time); the auth backoff
    // (400 ms, doubling) allows three or four tries in 3 s, where the link's (100-500 ms) would allow a dozen.
    expect(r.sim.refused.length).toBeGreaterThanOrEqual(2);
    expect(r.sim.refused.length).toBeLessThanOrEqual(5);
    const refused = r.sim.refused.length;
    // One clock read a try, not two (a try may be between its read and its refusal as we look).
    expect(r.sim.counts.clockReads - refused).toBeGreaterThanOrEqual(0);
    expect(r.sim.counts.clockReads - refused).toBeLessThanOrEqual(1);
    expect(ofType(r.rig.events, 'device.offline')).toHaveLength(1);
    r.sim.setPassword('cam-pass-1');
    await r.rig.waitFor((e) => e.type === 'device.online', 8000);
  });

  it('answers an HTTP digest challenge on the SOAP calls too; a wrong password there is a refused login', async () => {
    const r = await onvif({ sim: { httpDigest: true } });
    r.sim.event(crossed);
    await r.rig.waitFor((e) => e.type === 'camera.line_crossed');
    expect(r.sim.refused).toEqual([]);
    r.sim.setPassword('changed-on-the-camera');
    r.sim.hostile = 'silent-pull'; // the pull in flight ends; the next connection meets the new password
    const off = await r.rig.waitFor(
      (e) => e.type === 'device.offline' && (e.data as { reason: string }).reason === 'auth',
      8000,
    );
    expect(off.data).toMatchObject({ code: 'CAMERA_AUTH_REFUSED' });
  });

  it('renews before the term ends, and subscribes again when a renew is refused (expired early)', async () => {
    const r = await onvif({ sim: { grantMs: 1000, subscriptionPort: true } });
    await waitUntil(() => onvifCounts(r).renews >= 2, 5000, 'two renews');
    expect(r.sim.counts.subscribes).toBe(1);
    r.sim.hostile = 'expire-early';
    await waitUntil(() => r.sim.counts.subscribes >= 2, 5000, 'a new subscription');
    r.sim.hostile = null;
    r.sim.event(crossed);
    await r.rig.waitFor((e) => e.type === 'camera.line_crossed');
    expect(r.rig.events.filter((e) => e.type === 'device.offline')).toEqual([]);
  });

  it('a pull that never answers: offline silent (an open motion ended, reason lost), then online again', async () => {
    const r = await onvif();
    r.sim.event(motion(true, 'Road'));
    await r.rig.waitFor((e) => e.type === 'camera.motion');
    r.sim.hostile = 'silent-pull';
    const off = await r.rig.waitFor((e) => e.type === 'device.offline', 6000);
    expect(off.data).toMatchObject({ reason: 'silent', error: 'no pull answer for 1500 ms' });
    const ended = await r.rig.waitFor((e) => e.type === 'camera.motion_ended');
    expect(ended.data).toMatchObject({ region: 'Road', reason: 'lost' });
    r.sim.hostile = null;
    await r.rig.waitFor((e) => e.type === 'device.online', 8000);
    expect(r.sim.counts.unsubscribes).toBeGreaterThanOrEqual(1); // the dropped subscription let go
  });

  it('hostile answers are bounded: a 20 MB answer is cut, an entity bomb refused, each counted', async () => {
    const r = await onvif();
    r.sim.hostile = 'huge';
    await r.rig.waitFor((e) => e.type === 'device.offline', 6000);
    await waitUntil(() => (r.describe().detail!.oversize as number) >= 1, 5000, 'the huge answer counted');
    r.sim.hostile = 'bomb';
    await waitUntil(() => (r.describe().detail!.malformed as number) >= 1, 8000, 'the bomb counted');
    expect(process.memoryUsage().heapUsed).toBeLessThan(1024 * 1024 * 1024);
    r.sim.hostile = null;
    await r.rig.waitFor((e) => e.type === 'device.online', 8000);
    const codes = r.logs.map((l) => l.code);
    expect(codes).toContain('CAMERA_PART_TOO_LARGE');
    expect(codes).toContain('CAMERA_STREAM_MALFORMED');
  });

  it('an alarm brings a picture from GetSnapshotUri (asked once, the smallest profile, another port, HTTP digest)', async () => {
    const r = await onvif({ sim: { subscriptionPort: true } }); // the picture is served on the second port
    r.sim.event(crossed);
    await r.rig.waitFor((e) => e.type === 'camera.picture', 8000, 'the picture');
    r.sim.event({ ...crossed, source: { Rule: 'Second' } });
    await waitUntil(() => ofType(r.rig.events, 'camera.picture').length === 2, 8000, 'a second picture');
    expect(r.sim.counts.snapshots).toBe(2);
    expect(r.sim.counts.profiles).toBe(1);
  });

  it('unsubscribes when the agent stops', async () => {
    const r = await onvif();
    await r.rig.agent.stop();
    expect(r.sim.counts.unsubscribes).toBe(1);
    expect(r.sim.subscriptions).toBe(0);
  });
});
