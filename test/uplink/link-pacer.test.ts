/** The pacer on a clock we drive: bytes leave at the link's rate, not a whole budget at once. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LinkPacer, PACE_BURST_MS, PACE_GAIN } from '../../agent/uplink/link-pacer.js';
import { FlightControl, MIN_ROOM } from '../../agent/uplink/flight-control.js';

const EDGE = 12_500; // bytes/s: the lab's edge-2g

function pacer(rate: number | null, messagesPerSec?: number) {
  let now = 0;
  let wakes = 0;
  const link = { rate, pacingRate: () => link.rate };
  const p = new LinkPacer(
    link,
    () => now,
    () => (wakes += 1),
    messagesPerSec,
  );
  return {
    p,
    link,
    wakes: () => wakes,
    advance: (ms: number) => {
      now += ms;
      vi.advanceTimersByTime(ms);
    },
  };
}

/**
 * A sender with `budget` bytes to send in messages of `size` (the refill after the round-trip
 * probe let the link go empty): sends whenever the pacer lets it, for `ms`, 1 ms at a time.
 * Returns the bytes sent by each millisecond.
 */
function refill(t: ReturnType<typeof pacer>, budget: number, size: number, ms: number): number[] {
  const sentBy: number[] = [];
  let sent = 0;
  for (let ms0 = 0; ms0 < ms; ms0++) {
    while (sent < budget && t.p.ready()) {
      t.p.spent(size);
      sent += size;
    }
    sentBy.push(sent);
    t.advance(1);
  }
  return sentBy;
}

describe('LinkPacer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('without a rate (the pipe still growing) nothing is held and a message is not cut', () => {
    const t = pacer(null);
    expect(t.p.quantum()).toBe(Infinity);
    for (let i = 0; i < 50; i++) {
      expect(t.p.ready()).toBe(true);
      t.p.spent(4096);
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refills an empty EDGE link at the rate: a 13 KB budget leaves over ~1 s, not at once', () => {
    const t = pacer(EDGE);
    const burst = Math.max(MIN_ROOM, (EDGE * PACE_GAIN * PACE_BURST_MS) / 1000);
    expect(t.p.quantum()).toBe(burst);
    const sentBy = refill(t, 13_000, 1000, 1500);
    // What left by each moment: the burst, a message, and the rate since (never the whole budget).
    for (const ms of [0, 100, 250, 500, 800]) {
      expect(sentBy[ms], `bytes sent by ${ms} ms`).toBeLessThanOrEqual(burst + 1000 + (EDGE * PACE_GAIN * ms) / 1000);
    }
    expect(sentBy[0]).toBeLessThan(3000);
    expect(sentBy[1499], 'all of it in the end').toBe(13_000);
    // ... and about at the rate: done within 13 KB / (rate x gain) + a message.
    const doneAt = sentBy.indexOf(13_000);
    expect(doneAt).toBeGreaterThan(700);
    expect(doneAt).toBeLessThan(1000);
  });

  it('messages are big enough for the replay pacing to carry the pace, and replay unpaced (0) leaves the link paced', () => {
    expect(pacer(48_000, 20).p.quantum(), 'weak-3g at 20 a second: 2 x 1/20 s of the pace').toBeCloseTo(
      (2 * 48_000 * PACE_GAIN) / 20,
    );
    const unpacedReplay = pacer(EDGE, 0);
    expect(unpacedReplay.p.quantum()).toBe(MIN_ROOM);
    expect(unpacedReplay.p.ready()).toBe(true);
    unpacedReplay.p.spent(5000);
    expect(unpacedReplay.p.ready()).toBe(false);
  });

  it('a message bigger than the credit still goes; the next waits until the link has carried it, and a timer says so', () => {
    const t = pacer(EDGE);
    expect(t.p.ready()).toBe(true);
    t.p.spent(5000); // 5 KB against a ~1.4 KB credit: ~290 ms of debt at 13.75 KB/s
    expect(t.p.ready()).toBe(false);
    expect(t.wakes()).toBe(0);
    t.advance(200);
    expect(t.wakes()).toBe(0);
    expect(t.p.ready()).toBe(false); // asking again sets no second timer
    expect(vi.getTimerCount()).toBe(1);
    t.advance(120);
    expect(t.wakes()).toBe(1);
    expect(t.p.ready()).toBe(true);
  });

  it("an alarm's bytes are the link's too: telemetry after it waits for them", () => {
    const t = pacer(EDGE);
    expect(t.p.ready()).toBe(true);
    t.p.spent(3000); // the critical message goes whatever the credit; its airtime is spent
    expect(t.p.ready()).toBe(false);
    const carriedMs = ((3000 - MIN_ROOM) * 1000) / (EDGE * PACE_GAIN); // beyond the credit: ~144 ms
    t.advance(carriedMs - 10);
    expect(t.wakes()).toBe(0);
    t.advance(15);
    expect(t.wakes()).toBe(1);
  });

  it('reset: no timer left, and the credit is full again; pacing that begins after unpaced sends starts full', () => {
    const t = pacer(EDGE);
    t.p.spent(20_000);
    expect(t.p.ready()).toBe(false);
    t.p.reset();
    expect(vi.getTimerCount()).toBe(0);
    expect(t.p.ready()).toBe(true);

    t.link.rate = null; // growing: sends are not counted against a later pace
    for (let i = 0; i < 10; i++) t.p.spent(8000);
    t.link.rate = EDGE;
    expect(t.p.ready()).toBe(true);
  });

  it('FlightControl paces nothing before a round trip is known, then a growing budget over a round trip', () => {
    let now = 1000;
    const fc = new FlightControl({ window: 20, queueMs: 500, messageMs: 250 }, () => now);
    expect(fc.pacingRate()).toBeNull();
    const probe = fc.sent(512, false);
    now += 800;
    fc.acked(probe);
    expect(fc.pacingRate()).toBe((fc.budgetBytes() * 1000) / 800); // the 8 KB initial budget over 0.8 s
  });
});
