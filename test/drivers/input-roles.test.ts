import { describe, expect, it } from 'vitest';
import { inputRoleSchema } from '../../config/schema/devices.js';
import { InputTracker } from '../../drivers/input-roles.js';

const tracker = (role: Record<string, unknown>) =>
  new InputTracker('board-1', 'di1', inputRoleSchema.parse(role), { unitId: 1 });
const types = (evs: { type: string }[]) => evs.map((e) => e.type);

describe('input roles', () => {
  it('door: reports its state at start, then each settled change; polarity low inverts', () => {
    const door = tracker({ role: 'door', id: 'storehouse-door', activeLevel: 'low', debounceMs: 50 });
    const first = door.sample(1, 0); // raw 1 with active-low: closed
    expect(first).toEqual([
      {
        deviceId: 'storehouse-door',
        type: 'door.closed',
        priority: 'high',
        data: { unitId: 1, input: 'di1', active: false, initial: true },
      },
    ]);
    expect(door.sample(0, 10)).toEqual([]); // bouncing: not yet 50 ms
    expect(door.sample(1, 20)).toEqual([]); // back: the candidate is dropped
    expect(door.sample(0, 30)).toEqual([]);
    expect(types(door.sample(0, 79))).toEqual([]);
    expect(types(door.sample(0, 80))).toEqual(['door.opened']);
    expect(door.sample(0, 200)).toEqual([]);
    expect(door.changes).toBe(1);
  });

  it('alarm button: a press is critical at once (no debounce by default), a release is normal', () => {
    const btn = tracker({ role: 'alarm-button', led: 'relay2' });
    expect(btn.sample(false, 0)).toEqual([]); // idle at start: nothing to say
    const press = btn.sample(true, 5);
    expect(press).toEqual([
      {
        deviceId: 'board-1.di1',
        type: 'alarm.pressed',
        priority: 'critical',
        data: { unitId: 1, input: 'di1', active: true, led: 'relay2' },
      },
    ]);
    expect(types(btn.sample(false, 300))).toEqual(['alarm.released']);
  });

  it('alarm button held at start is reported as a press', () => {
    const btn = tracker({ role: 'alarm-button' });
    expect(btn.sample(true, 0)).toMatchObject([{ type: 'alarm.pressed', data: { initial: true } }]);
  });

  it('camera alarm output: start and end events, with the snapshot URL', () => {
    const cam = tracker({ role: 'camera-alarm', event: 'camera.tamper', snapshotUrl: 'http://192.0.2.10/snap.jpg' });
    cam.sample(0, 0);
    expect(cam.sample(1, 10)).toMatchObject([
      { type: 'camera.tamper', priority: 'high', data: { snapshotUrl: 'http://192.0.2.10/snap.jpg' } },
    ]);
    expect(types(cam.sample(0, 20))).toEqual(['camera.tamper_ended']);
  });

  it('treats numbers as levels (register inputs)', () => {
    const input = tracker({ role: 'input' });
    expect(input.sample(0, 0)).toMatchObject([{ type: 'input.changed', data: { active: false, initial: true } }]);
    expect(input.sample(7, 1)).toMatchObject([{ type: 'input.changed', data: { active: true } }]);
  });
});
