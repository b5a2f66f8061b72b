/**
 * Whose clock judges a command's expiry (agent/uplink/command-expiry.ts): the gateway's once it
 * is synced; before that, the later of it and the county's last stated time, moved on by the
 * monotonic clock. The clock is ours to fake: a Pi that booted in 1970 after a power cut.
 */
import { describe, expect, it } from 'vitest';
import { ACTUATION_MAX_AGE_MS, CommandClock } from '../../agent/uplink/command-expiry.js';

const DAY = 86_400_000;
const COUNTY_NOW = Date.UTC(2026, 11, 6, 8, 0, 0);

function fakeClock(wall: number, synced = false) {
  const c = { wall, mono: 0, synced };
  const clock = new CommandClock({ now: () => c.wall, monoMs: () => c.mono, synced: () => c.synced });
  const pass = (ms: number) => ((c.wall += ms), (c.mono += ms));
  return { c, clock, pass };
}

describe('the clock that judges a command', () => {
  it('a gateway that booted in 1970 judges by the time the county last stated, moved on', () => {
    const { clock, pass } = fakeClock(0);
    // Before the county said anything, a week-old command looks fresh to a 1970 clock: the best it can do.
    expect(clock.judge({ expiresAt: COUNTY_NOW - 7 * DAY }, true)).toBeNull();
    clock.told(COUNTY_NOW);
    pass(5_000);
    expect(clock.now()).toEqual({ ms: COUNTY_NOW + 5_000, clock: 'county' });
    const weekOld = clock.judge({ expiresAt: COUNTY_NOW - 7 * DAY }, true);
    expect(weekOld).toMatchObject({ code: 'EXPIRED', clock: 'county', judgedAt: COUNTY_NOW + 5_000 });
    expect(weekOld!.message).toMatch(/expired 7 d ago/);
    expect(clock.judge({ expiresAt: COUNTY_NOW + 60_000 }, true)).toBeNull();
    // sentAt only: an actuation command is good for a minute from it.
    expect(clock.judge({ sentAt: COUNTY_NOW - ACTUATION_MAX_AGE_MS }, true)).toMatchObject({ code: 'EXPIRED' });
    expect(clock.judge({ sentAt: COUNTY_NOW }, true)).toBeNull();
    // A county time behind the one held does not move the clock back.
    clock.told(COUNTY_NOW - DAY);
    expect(clock.now().ms).toBe(COUNTY_NOW + 5_000);
  });

  it('a synced gateway trusts its own clock: a far-future sentAt changes nothing', () => {
    const { clock } = fakeClock(COUNTY_NOW, true);
    clock.told(COUNTY_NOW + 365 * DAY);
    expect(clock.now()).toEqual({ ms: COUNTY_NOW, clock: 'gateway' });
    expect(clock.judge({ expiresAt: COUNTY_NOW + 60_000 }, true)).toBeNull();
    // And a county time held from before the sync is dropped once the clock is good.
    const early = fakeClock(0);
    early.clock.told(COUNTY_NOW);
    early.c.synced = true;
    early.c.wall = COUNTY_NOW - 10_000;
    expect(early.clock.now()).toEqual({ ms: COUNTY_NOW - 10_000, clock: 'gateway' });
  });

  it('an actuation command must say how long it is good for; any other may not', () => {
    const { clock } = fakeClock(COUNTY_NOW, true);
    expect(clock.judge({}, true)).toMatchObject({ code: 'NO_EXPIRY', expiredAt: null });
    expect(clock.judge({}, false)).toBeNull();
    expect(clock.judge({ mqttExpirySec: 30 }, true)).toBeNull();
    expect(clock.judge({ mqttExpirySec: 0 }, false)).toMatchObject({ code: 'EXPIRED' });
    // An explicit expiry wins over sentAt's default minute, both ways.
    expect(clock.judge({ sentAt: COUNTY_NOW - 10 * 60_000, expiresAt: COUNTY_NOW + 1000 }, true)).toBeNull();
    expect(clock.judge({ sentAt: COUNTY_NOW, expiresAt: COUNTY_NOW - 1 }, true)).toMatchObject({ code: 'EXPIRED' });
    // A non-actuation command with only sentAt has no expiry (a late status or ack harms nobody).
    expect(clock.judge({ sentAt: COUNTY_NOW - DAY }, false)).toBeNull();
  });
});
