/**
 * A stateful camera event that never ends (issue 19): the mapper, on a clock the test owns,
 * ends a state not repeated within the state timeout with `reason: 'timeout'`; a stream lost
 * ends every open state with `reason: 'lost'`; ONVIF's Initialized states are set silently.
 */
import { describe, expect, it } from 'vitest';
import { OnvifCameraSimulator } from '../../scripts/simulators/camera-onvif-sim.js';
import { buildDriver, type Cleanup } from '../helpers/driver-harness.js';
import { JumpingClock } from '../helpers/jumping-clock.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { profileSchema, type CameraProfile } from '../../config/schema/profile.js';
import type { VendorEvent } from '../../drivers/camera/camera-event.js';
import { CameraEventMapper } from '../../drivers/camera/camera-event-mapper.js';

const profile = profileSchema.parse({
  version: 1,
  id: 'test-cam',
  vendor: 'test',
  model: 'test',
  source: ['this test'],
  transport: 'camera',
  protocol: 'onvif',
  events: {
    Motion: { kind: 'state', type: 'camera.motion' },
    Tamper: { kind: 'state', type: 'camera.tamper', alarm: true },
  },
}) as CameraProfile;

const TEN_MIN = 600_000;
const tempDir = useTempDirs();
const cleanup = useCleanups();

function mapperAt() {
  const clock = { ms: 0 };
  const mapper = new CameraEventMapper('cam', profile, 0, [], () => clock.ms, TEN_MIN);
  return { clock, mapper };
}

const ev = (code: string, state: VendorEvent['state'], extra: Partial<VendorEvent> = {}): VendorEvent => ({
  kind: 'event',
  code,
  state,
  channel: 1,
  region: 'R1',
  cameraTime: null,
  ...extra,
});

describe('camera state timeout', () => {
  it('the profile default is ten minutes', () => {
    expect(profile.defaults.stateTimeoutSec).toBe(600);
  });

  it('a motion never ended is ended after the timeout, with reason timeout; a repeat renews it', () => {
    const { clock, mapper } = mapperAt();
    expect(mapper.map(ev('Motion', 'start'))).toMatchObject({ type: 'camera.motion' });
    clock.ms = TEN_MIN - 1;
    expect(mapper.expire()).toEqual([]);
    expect(mapper.map(ev('Motion', 'start'))).toBeNull(); // a repeat (Hikvision every second): renewed
    clock.ms = 2 * TEN_MIN - 2;
    expect(mapper.expire()).toEqual([]);
    clock.ms = 2 * TEN_MIN - 1;
    const [ended, ...rest] = mapper.expire();
    expect(rest).toEqual([]);
    expect(ended).toMatchObject({
      type: 'camera.motion_ended',
      priority: 'normal',
      data: { code: 'Motion', channel: 1, region: 'R1', count: 2, reason: 'timeout', protocol: 'onvif' },
    });
    expect(mapper.expire()).toEqual([]); // once
    expect(mapper.map(ev('Motion', 'stop'))).toBeNull(); // the camera's late end: already ended
    expect(mapper.map(ev('Motion', 'start'))).toMatchObject({ type: 'camera.motion' }); // a new one is reported
  });

  it('a stream lost ends every open state at once with reason lost; the next start is reported', () => {
    const { mapper } = mapperAt();
    mapper.map(ev('Motion', 'start'));
    mapper.map(ev('Tamper', 'start'));
    const ended = mapper.endAll();
    expect(ended.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([
      ['camera.motion_ended', 'lost'],
      ['camera.tamper_ended', 'lost'],
    ]);
    expect(mapper.endAll()).toEqual([]);
    expect(mapper.map(ev('Tamper', 'start'))).toMatchObject({ type: 'camera.tamper', priority: 'high' });
  });

  it('an Initialized state is set silently, never an alarm, and ends silently', () => {
    const { clock, mapper } = mapperAt();
    expect(mapper.map(ev('Tamper', 'start', { initial: true }))).toBeNull();
    expect(mapper.map(ev('Tamper', 'start'))).toBeNull(); // on already: a repeat
    expect(mapper.map(ev('Tamper', 'stop'))).toBeNull(); // its end is as silent as its start
    clock.ms = 2 * TEN_MIN;
    expect(mapper.map(ev('Tamper', 'start', { initial: true }))).toBeNull();
    clock.ms = 4 * TEN_MIN;
    expect(mapper.expire()).toEqual([]); // a silent state times out silently
    expect(mapper.endAll()).toEqual([]);
  });

  it('a state reported on, then Initialized off after a resubscribe, ends (not an alarm)', () => {
    const { mapper } = mapperAt();
    mapper.map(ev('Tamper', 'start'));
    expect(mapper.map(ev('Tamper', 'stop', { initial: true }))).toMatchObject({
      type: 'camera.tamper_ended',
      priority: 'normal',
    });
  });
});

describe('camera state timeout in the driver', () => {
  it("an ONVIF motion whose end never comes ends after the profile's 10 minutes on the driver's clock", async () => {
    const sim = new OnvifCameraSimulator();
    const port = await sim.listen();
    const cleanups: Cleanup[] = [() => sim.close()];
    cleanup(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });
    const clock = new JumpingClock();
    const device = { id: 'gate-cam', driver: 'camera' as const, profile: 'onvif', host: '127.0.0.1', port };
    const { driver, events } = await buildDriver(
      tempDir(),
      { devices: [{ ...device, user: 'admin', password: 'cam-pass-1', idleTimeoutMs: 2000, debounceMs: 0 }] },
      cleanups,
      clock,
    );
    await driver.start(new AbortController().signal);
    await waitUntil(() => driver.describe().online, 5000, 'the pull point answering');
    sim.event({
      topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
      source: { Rule: 'Road' },
      data: { IsMotion: 'true' },
    });
    await waitUntil(() => events.some((e) => e.type === 'camera.motion'), 5000, 'the motion');
    clock.elapse(TEN_MIN - 5000);
    await new Promise((r) => setTimeout(r, 1500)); // an absence: a sweep or more, nothing ended yet
    expect(events.filter((e) => e.type === 'camera.motion_ended')).toEqual([]);
    clock.elapse(5000);
    await waitUntil(() => events.some((e) => e.type === 'camera.motion_ended'), 3000, 'the motion ended');
    const ended = events.find((e) => e.type === 'camera.motion_ended')!;
    expect(ended.data).toMatchObject({ protocol: 'onvif', region: 'Road', reason: 'timeout' });
    expect(events.filter((e) => e.type === 'device.offline')).toEqual([]); // the stream is fine: only the state ended
  });
});
