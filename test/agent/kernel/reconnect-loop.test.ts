/** The shared reconnect loop on a fake schedule: every wait is seen and run by hand, no real time passes. */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../core/kernel/backoff.js';
import { ReconnectLoop, type Schedule } from '../../../core/kernel/reconnect-loop.js';

/** A schedule we drive: each pending wait with its delay; fire() runs the oldest. */
function fakeSchedule() {
  const pending: { run: () => void; delayMs: number }[] = [];
  const schedule: Schedule = (run, delayMs) => {
    const entry = { run, delayMs };
    pending.push(entry);
    return () => {
      const i = pending.indexOf(entry);
      if (i >= 0) pending.splice(i, 1);
    };
  };
  const fire = () => {
    const next = pending.shift();
    if (!next) throw new Error('nothing scheduled');
    next.run();
  };
  return { schedule, pending, fire };
}

/** A loop whose attempts only count; the test says how each went. */
function loopWith(opts: { random?: () => number; attempt?: () => void; urgentDelay?: () => number | null } = {}) {
  const timers = fakeSchedule();
  const waits: number[] = [];
  let attempts = 0;
  const loop = new ReconnectLoop({
    backoff: new Backoff(100, 1000, 0.2, opts.random ?? (() => 0.5)),
    attempt: opts.attempt ?? (() => void (attempts += 1)),
    onWait: (delayMs) => waits.push(delayMs),
    schedule: timers.schedule,
    ...(opts.urgentDelay ? { urgentDelay: opts.urgentDelay } : {}),
  });
  return { loop, timers, waits, attempts: () => attempts };
}

const counts = (loop: ReconnectLoop) => ({
  attempts: loop.attempts,
  retries: loop.retries,
  ups: loop.ups,
  losses: loop.losses,
});

describe('ReconnectLoop', () => {
  it('attempts at once on start, then after each failure waits a backoff that doubles up to its maximum', () => {
    const { loop, timers, waits, attempts } = loopWith();
    expect(loop.state).toBe('down');
    loop.start();
    expect(loop.state).toBe('connecting');
    expect(attempts()).toBe(1);
    for (let i = 0; i < 6; i++) {
      loop.down();
      expect(loop.state).toBe('down');
      timers.fire();
      expect(loop.state).toBe('connecting');
    }
    // Backoff(100, 1000, jitter 0.2) at random 0.5: base - 10% of base, never below the minimum.
    expect(waits).toEqual([100, 180, 360, 720, 900, 900]);
    expect(counts(loop)).toEqual({ attempts: 7, retries: 6, ups: 0, losses: 0 });
    expect(attempts()).toBe(7);
  });

  it('spreads the waits by the jitter (the lowest and highest random draw)', () => {
    const lo = loopWith({ random: () => 0 });
    const hi = loopWith({ random: () => 0.999999 });
    for (const { loop, timers } of [lo, hi]) {
      loop.start();
      for (let i = 0; i < 4; i++) {
        loop.down();
        timers.fire();
      }
    }
    expect(lo.waits).toEqual([100, 160, 320, 640]);
    expect(hi.waits).toEqual([100, 200, 400, 800]);
  });

  it('starts the backoff over once a link came up, and counts a lost link apart from a failed attempt', () => {
    const { loop, timers, waits } = loopWith();
    loop.start();
    loop.down(); // failed attempt
    timers.fire();
    loop.down();
    timers.fire();
    expect(loop.up()).toBe(true);
    expect(loop.state).toBe('up');
    loop.down(); // the live link went away
    expect(loop.losses).toBe(1);
    timers.fire();
    expect(waits).toEqual([100, 180, 100]);
    expect(counts(loop)).toEqual({ attempts: 4, retries: 3, ups: 1, losses: 1 });
  });

  it('reports a loss once however many ways the link says so (one wait, not two)', () => {
    const { loop, timers } = loopWith();
    loop.start();
    loop.up();
    loop.down();
    loop.down();
    expect(timers.pending).toHaveLength(1);
    expect(loop.losses).toBe(1);
  });

  it('stop cancels the pending wait; a late report from the attempt is ignored; start runs it again', () => {
    const { loop, timers, attempts } = loopWith();
    loop.start();
    loop.down();
    expect(timers.pending).toHaveLength(1);
    loop.stop();
    expect(loop.state).toBe('stopped');
    expect(timers.pending).toHaveLength(0);
    loop.down();
    expect(timers.pending).toHaveLength(0);
    expect(loop.up(), 'an attempt that connects after stop is not up').toBe(false);
    expect(loop.state).toBe('stopped');
    loop.start();
    expect(loop.state).toBe('connecting');
    expect(attempts()).toBe(2);
  });

  it('stop while an attempt runs: its outcome is ignored and nothing is scheduled', () => {
    const { loop, timers } = loopWith();
    loop.start();
    loop.stop();
    loop.down();
    expect(loop.up()).toBe(false);
    expect(loop.state).toBe('stopped');
    expect(timers.pending).toHaveLength(0);
  });

  it('start does nothing while an attempt runs or the link is up', () => {
    const { loop, attempts } = loopWith();
    loop.start();
    loop.start();
    expect(attempts()).toBe(1);
    loop.up();
    loop.start();
    expect(attempts()).toBe(1);
    expect(loop.state).toBe('up');
  });

  it('while something urgent waits, the wait is cut to the urgent delay; the backoff grows on behind it', () => {
    let urgent: number | null = null;
    const { loop, timers, waits } = loopWith({ urgentDelay: () => urgent, random: () => 1 }); // no jitter
    loop.start();
    for (let i = 0; i < 4; i++) {
      loop.down();
      timers.fire();
    }
    expect(waits).toEqual([100, 200, 400, 800]);
    urgent = 150; // an alarm is stored: waits are 150 ms, not the grown backoff
    loop.down();
    timers.fire();
    loop.down();
    expect(waits.slice(4)).toEqual([150, 150]);
    urgent = null; // delivered: the long waits are back where the backoff had got to
    timers.fire();
    loop.down();
    expect(waits.slice(6)).toEqual([1000]);
    expect(timers.pending.map((p) => p.delayMs)).toEqual([1000]);
  });

  it('hurry cuts a longer wait in progress, ignores a shorter one, and does nothing unless waiting', () => {
    let urgent: number | null = null;
    const { loop, timers, attempts } = loopWith({ urgentDelay: () => urgent, random: () => 1 });
    loop.hurry(); // not waiting yet: nothing
    loop.start();
    for (let i = 0; i < 3; i++) {
      loop.down();
      timers.fire();
    }
    loop.down();
    expect(timers.pending.map((p) => p.delayMs)).toEqual([800]);
    loop.hurry(); // nothing urgent: the wait stays
    expect(timers.pending.map((p) => p.delayMs)).toEqual([800]);
    urgent = 50;
    loop.hurry();
    expect(timers.pending.map((p) => p.delayMs)).toEqual([50]);
    loop.hurry(900); // longer than the wait in progress: ignored
    expect(timers.pending.map((p) => p.delayMs)).toEqual([50]);
    timers.fire();
    expect(attempts()).toBe(5);
    expect(loop.state).toBe('connecting');
    loop.hurry(10); // an attempt runs: nothing to cut
    expect(timers.pending).toHaveLength(0);
  });
});
