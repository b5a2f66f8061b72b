/**
 * A stateful camera event that never ends (issue 19): the mapper, on a clock the test owns,
 * ends a state not repeated within the state timeout with `reason: 'timeout'`; a stream lost
 * ends every open state with `reason: 'lost'`; ONVIF's Initialized states are set silently.
 */
import { describe, expect, it } from 'vitest';
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
