/** The uplink's airtime budget on a clock we drive: what it admits, and what it learns from PUBACKs. */
import { describe, expect, it } from 'vitest';
import {
  FlightControl,
  INITIAL_BUDGET_BYTES,
  MIN_BUDGET_BYTES,
  MIN_MESSAGE_BYTES,
  RTT_PROBE_MS,
} from '../../agent/uplink/flight-control.js';

function control(window = 20, queueMs = 500, messageMs = 250) {
  let now = 1000;
  const fc = new FlightControl({ window, queueMs, messageMs }, () => now);
  return { fc, advance: (ms: number) => (now += ms) };
}

/**
 * A link of `rate` bytes/s and a one-way `delayMs`: sends what the control admits in messages
 * of `size` bytes for `ms`, acknowledging each when it has crossed (serialised at the rate) and
 * the PUBACK come back. Returns the most bytes ever unacknowledged.
 */
function runLink(
  fc: FlightControl,
  advance: (ms: number) => number,
  rate: number,
  delayMs: number,
  size: number,
  ms: number,
) {
  const acks: { at: number; token: number }[] = [];
  let t = 0;
  let wireFree = 0;
  let peak = 0;
  while (t < ms) {
    while (fc.admits(size, false)) {
      const token = fc.sent(size, false);
      wireFree = Math.max(wireFree, t) + (size / rate) * 1000;
      acks.push({ at: wireFree + 2 * delayMs, token });
      peak = Math.max(peak, fc.bytes);
    }
    acks.sort((a, b) => a.at - b.at);
    const next = acks.shift();
    if (!next) break;
    advance(next.at - t);
    t = next.at;
    fc.acked(next.token);
  }
  return peak;
}

describe('FlightControl', () => {
  it('before any PUBACK: an initial budget; one message always goes on an empty link', () => {
    const { fc } = control();
    expect(fc.budgetBytes()).toBe(INITIAL_BUDGET_BYTES);
    expect(fc.admits(1_000_000, false), 'a message bigger than the budget, on an empty link').toBe(true);
    fc.sent(1_000_000, false);
    expect(fc.admits(100, false), 'but nothing after it').toBe(false);
    expect(fc.admits(500, true), 'an alarm ignores the byte budget').toBe(true);
  });

  it('keeps one slot of the count window for critical events', () => {
    const { fc } = control(3);
    fc.sent(100, false);
    fc.sent(100, false);
    expect(fc.admits(100, false)).toBe(false);
    expect(fc.admits(100, true)).toBe(true);
    fc.sent(100, true);
    expect(fc.admits(100, true), 'the window is a hard limit, even for alarms').toBe(false);
  });

  it('learns an EDGE link: the budget settles near rate x (rtt + queueMs), a message near rate x messageMs', () => {
    const { fc, advance } = control(20, 500, 250);
    const rate = 12_500; // 100 kbit/s
    const peak = runLink(fc, advance, rate, 400, 1500, 60_000);
    const est = fc.rateBytesPerSec()!;
    expect(est).toBeGreaterThan(rate * 0.9);
    expect(est).toBeLessThan(rate * 1.1);
    expect(fc.minRttMs()).toBeGreaterThanOrEqual(800);
    expect(fc.minRttMs()).toBeLessThan(800 + 2 * (1500 / rate) * 1000);
    // rtt ~0.92 s + 0.5 s of queue: ~18 KB, i.e. an alarm finds at most ~1.5 s of data ahead of it.
    expect(fc.budgetBytes()).toBeGreaterThan(rate * 1.3);
    expect(fc.budgetBytes()).toBeLessThan(rate * 1.6);
    expect(peak).toBeLessThanOrEqual(fc.budgetBytes() + 1500);
    expect(fc.messageBytes()).toBe(Math.round(est * 0.25));
  });

  it('measures the round trip only onto an empty link, and lets a draining link go empty for a fresh one', () => {
    const { fc, advance } = control(20, 500, 250);
    const first = fc.sent(1000, false);
    const queued = fc.sent(1000, false); // behind the first: its round trip includes our own queue
    advance(200);
    fc.acked(first);
    advance(300);
    fc.acked(queued);
    expect(fc.minRttMs()).toBe(200);
    // A backlog drains: the link never goes empty, so no fresh round trip for 20 s.
    let inFlight = [fc.sent(1000, false)];
    for (let t = 0; t < RTT_PROBE_MS; t += 500) {
      advance(500);
      inFlight.push(fc.sent(1000, false));
      fc.acked(inFlight.shift()!);
    }
    advance(1000);
    expect(fc.count).toBeGreaterThan(0);
    expect(fc.admits(1000, false), 'the probe: nothing more until the link is empty').toBe(false);
    expect(fc.admits(1000, true), 'an alarm still goes').toBe(true);
    for (const t of inFlight) fc.acked(t);
    inFlight = [];
    expect(fc.admits(1000, false)).toBe(true);
    const probe = fc.sent(1000, false);
    advance(250);
    fc.acked(probe);
    expect(fc.admits(1000, false)).toBe(true);
    expect(fc.minRttMs()).toBe(200); // the old sample is still in its 30 s window
  });

  it('on a fast link the budget grows out of the way (the count window governs)', () => {
    const { fc, advance } = control(20, 500, 250);
    runLink(fc, advance, 50_000_000, 0.1, 60_000, 2_000);
    expect(fc.budgetBytes()).toBeGreaterThan(20 * 60_000);
  });

  it('never goes below its floors, and forgets what failed without a sample', () => {
    const { fc, advance } = control(20, 50, 10);
    const t = fc.sent(100, false);
    advance(10_000); // 100 bytes in 10 s: a dreadful sample
    fc.acked(t);
    expect(fc.budgetBytes()).toBe(MIN_BUDGET_BYTES);
    expect(fc.messageBytes()).toBe(MIN_MESSAGE_BYTES);
    const lost = fc.sent(300, true);
    expect(fc.oldestCriticalSentMs()).not.toBeNull();
    fc.failed(lost);
    expect([fc.count, fc.bytes, fc.criticalCount, fc.oldestCriticalSentMs()]).toEqual([0, 0, 0, null]);
  });

  it('forgets samples older than their windows, so a cell that changed is learned again', () => {
    const { fc, advance } = control();
    const t = fc.sent(10_000, false);
    advance(100);
    fc.acked(t);
    expect(fc.rateBytesPerSec()).toBeCloseTo(100_000, -3);
    advance(11_000);
    expect(fc.rateBytesPerSec(), 'past its window the last sample is still the best guess').toBeCloseTo(100_000, -3);
    expect(fc.minRttMs()).toBe(100);
    advance(20_000);
    expect(fc.minRttMs(), 'past its window the last round trip is still the best guess').toBe(100);
    fc.reset(5);
    expect(fc.budgetBytes(), 'a reconnect keeps the last estimate, not the initial 16 KB').toBe(60_000);
    // A worse cell: its first sample replaces the old figure at once.
    const u = fc.sent(1_000, false);
    advance(1_000);
    fc.acked(u);
    expect(fc.rateBytesPerSec()).toBeCloseTo(1_000, -1);
  });
});
