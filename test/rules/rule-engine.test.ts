/** Every rule kind with a fake clock (the clock is an edge we own). */
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { RuleEngine, type Firing } from '../../agent/rules/rule-engine.js';
import { ruleSchema } from '../../config/schema/rules.js';
import { FakeClock } from '../helpers/events.js';

// 2026-11-27 12:00 UTC is 20:00 in Asia/Shanghai.
const NOON_UTC = Date.UTC(2026, 10, 27, 12, 0, 0);
let seq = 0;
const ev = (deviceId: string, type: string, data: Record<string, unknown> = {}): GatewayEvent => ({
  id: `0190a000-0000-7000-8000-${String(++seq).padStart(12, '0')}`,
  seq,
  bootId: '00000000-0000-4000-8000-000000000000',
  gatewayId: 'gw',
  deviceId,
  type,
  priority: 'high',
  ts: new Date(NOON_UTC).toISOString(),
  monoMs: 0,
  clockSynced: true,
  data,
});

function engine(rules: unknown[], clock = new FakeClock(NOON_UTC)) {
  const fired: Firing[] = [];
  const tags: Record<string, string[]> = {
    'home-7-panic': ['panic-button'],
    'home-12-panic': ['panic-button'],
    'storehouse-door': ['storehouse'],
  };
  const e = new RuleEngine({
    rules: rules.map((r) => ruleSchema.parse(r)),
    clock,
    timezone: 'Asia/Shanghai',
    tagsOf: (d) => tags[d] ?? [],
    devicesWithTag: (t) => Object.keys(tags).filter((d) => tags[d]!.includes(t)),
    run: (_a, f) => fired.push(f),
  });
  return { e, clock, fired, ids: () => fired.map((f) => `${f.rule.id}:${f.deviceId}`) };
}
const alert = [{ do: 'alert', message: 'x' }];

describe('rule engine', () => {
  it('each: matches type, device, tag and a data query (sift)', () => {
    const { e, ids } = engine([
      { id: 'panic', when: { type: 'alarm.pressed', tags: ['panic-button'] }, actions: alert },
      { id: 'hot', when: { type: 'sensor.telemetry', data: { tempC: { $gt: 40 } } }, actions: alert },
    ]);
    e.onEvent(ev('home-7-panic', 'alarm.pressed'));
    e.onEvent(ev('somewhere-else', 'alarm.pressed')); // no tag
    e.onEvent(ev('meter', 'sensor.telemetry', { tempC: 39 }));
    e.onEvent(ev('meter', 'sensor.telemetry', { tempC: 45 }));
    expect(ids()).toEqual(['panic:home-7-panic', 'hot:meter']);
  });

  it('cooldown and de-duplication per device: a held or flapping button cannot flood', () => {
    const { e, clock, ids } = engine([
      { id: 'panic', when: { type: 'alarm.pressed' }, cooldownSec: 10, actions: alert },
    ]);
    for (let i = 0; i < 20; i++) {
      e.onEvent(ev('home-7-panic', 'alarm.pressed'));
      clock.advance(200);
    }
    e.onEvent(ev('home-12-panic', 'alarm.pressed')); // another device is not in that cooldown
    clock.advance(10_000);
    e.onEvent(ev('home-7-panic', 'alarm.pressed'));
    expect(ids()).toEqual(['panic:home-7-panic', 'panic:home-12-panic', 'panic:home-7-panic']);
    expect(e.stats.get('panic')!.suppressed).toBe(19);
  });

  it('count: 3 presses within 10 s, sliding, per device', () => {
    const { e, clock, ids } = engine([
      {
        id: 'triple',
        when: { type: 'alarm.pressed' },
        trigger: { kind: 'count', atLeast: 3, withinSec: 10 },
        cooldownSec: 0,
        actions: alert,
      },
    ]);
    e.onEvent(ev('home-7-panic', 'alarm.pressed'));
    clock.advance(6000);
    e.onEvent(ev('home-7-panic', 'alarm.pressed'));
    e.onEvent(ev('home-12-panic', 'alarm.pressed'));
    clock.advance(5000); // the first press has left the window
    e.onEvent(ev('home-7-panic', 'alarm.pressed'));
    expect(ids()).toEqual([]);
    e.onEvent(ev('home-7-panic', 'alarm.pressed'));
    expect(ids()).toEqual(['triple:home-7-panic']);
  });

  it('duration: a door open longer than 120 s fires once; closing in time cancels', () => {
    const { e, clock, ids } = engine([
      {
        id: 'door-left-open',
        when: { type: 'door.opened' },
        trigger: { kind: 'duration', until: { type: 'door.closed' }, forSec: 120 },
        actions: alert,
      },
    ]);
    e.onEvent(ev('storehouse-door', 'door.opened'));
    clock.advance(60_000);
    e.onEvent(ev('storehouse-door', 'door.closed'));
    clock.advance(100_000);
    e.tick();
    expect(ids()).toEqual([]);
    e.onEvent(ev('storehouse-door', 'door.opened'));
    expect(e.nextDeadline()).toBe(clock.mono + 120_000);
    clock.advance(119_999);
    e.tick();
    expect(ids()).toEqual([]);
    clock.advance(1);
    e.tick();
    e.tick();
    expect(ids()).toEqual(['door-left-open:storehouse-door']);
  });

  it('absence: a dead button is itself an alarm, once per silence, re-armed by any event', () => {
    const { e, clock, ids } = engine([
      {
        id: 'dead-button',
        when: { tags: ['panic-button'] },
        trigger: { kind: 'absence', silentForSec: 3600 },
        cooldownSec: 0,
        actions: alert,
      },
    ]);
    clock.advance(1800_000);
    e.onEvent(ev('home-7-panic', 'device.online'));
    clock.advance(1800_000);
    e.tick(); // home-12 never spoke since start: silent for an hour
    expect(ids()).toEqual(['dead-button:home-12-panic']);
    clock.advance(3600_000);
    e.tick();
    e.tick();
    expect(ids()).toEqual(['dead-button:home-12-panic', 'dead-button:home-7-panic']);
    e.onEvent(ev('home-12-panic', 'alarm.released'));
    clock.advance(3600_000);
    e.tick();
    expect(ids()).toHaveLength(3);
  });

  it('correlation: camera motion then the door within 30 s is an intrusion', () => {
    const { e, clock, fired } = engine([
      {
        id: 'intrusion',
        when: { type: 'door.opened', devices: ['storehouse-door'] },
        trigger: { kind: 'correlation', first: { type: 'camera.motion' }, withinSec: 30 },
        actions: alert,
      },
    ]);
    e.onEvent(ev('storehouse-door', 'door.opened')); // no motion before: nothing
    e.onEvent(ev('storehouse-cam', 'camera.motion'));
    clock.advance(31_000);
    e.onEvent(ev('storehouse-door', 'door.opened')); // too late
    e.onEvent(ev('storehouse-cam', 'camera.motion'));
    clock.advance(12_000);
    e.onEvent(ev('storehouse-door', 'door.opened'));
    expect(fired).toHaveLength(1);
    expect(fired[0]!.causes.map((c) => c.type)).toEqual(['camera.motion', 'door.opened']);
  });

  it('time windows: night at the storehouse (22:00-06:00 Shanghai), across midnight', () => {
    const clock = new FakeClock(NOON_UTC); // 20:00 in Shanghai
    const { e, ids } = engine(
      [
        {
          id: 'night-store',
          when: { type: 'door.opened' },
          window: { from: '22:00', to: '06:00' },
          cooldownSec: 0,
          actions: alert,
        },
      ],
      clock,
    );
    e.onEvent(ev('storehouse-door', 'door.opened'));
    clock.advance(2.5 * 3600_000); // 22:30
    e.onEvent(ev('storehouse-door', 'door.opened'));
    clock.advance(7 * 3600_000); // 05:30 next day
    e.onEvent(ev('storehouse-door', 'door.opened'));
    clock.advance(3600_000); // 06:30
    e.onEvent(ev('storehouse-door', 'door.opened'));
    expect(ids()).toHaveLength(2);
    expect(e.stats.get('night-store')!.outsideWindow).toBe(2);
  });

  it('an unsynced clock follows the rule (fire or skip); a wall clock jumping back changes no duration', () => {
    const clock = new FakeClock(NOON_UTC, 0, false);
    const { e, ids } = engine(
      [
        {
          id: 'safe',
          when: { type: 'door.opened' },
          window: { from: '22:00', to: '06:00' },
          cooldownSec: 0,
          actions: alert,
        },
        {
          id: 'strict',
          when: { type: 'door.opened' },
          window: { from: '22:00', to: '06:00', whenClockUnsynced: 'skip' },
          cooldownSec: 0,
          actions: alert,
        },
        {
          id: 'open-long',
          when: { type: 'door.opened' },
          trigger: { kind: 'duration', until: { type: 'door.closed' }, forSec: 120 },
          actions: alert,
        },
      ],
      clock,
    );
    e.onEvent(ev('storehouse-door', 'door.opened'));
    expect(ids()).toEqual(['safe:storehouse-door']);
    clock.wall -= 3 * 86400_000; // NTP finally answers: the wall clock goes back three days
    clock.mono += 121_000; // while real time moves on
    e.tick();
    expect(ids()).toEqual(['safe:storehouse-door', 'open-long:storehouse-door']);
  });

  it('rejects rules that would run code or cannot work, by path', () => {
    const bad = ruleSchema.safeParse({ id: 'x', when: { data: { $where: 'process.exit()' } }, actions: alert });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error!.issues)).toContain('$where is not allowed');
    const absence = ruleSchema.safeParse({
      id: 'y',
      when: { type: 'a.b' },
      trigger: { kind: 'absence', silentForSec: 5 },
      actions: alert,
    });
    expect(absence.error!.issues[0]!.message).toMatch(/absence rule needs when.devices or when.tags/);
  });
});
