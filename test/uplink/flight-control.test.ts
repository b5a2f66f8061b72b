/** The uplink's airtime budget on a clock we drive: what it admits, and what it learns from PUBACKs. */
import { describe, expect, it } from 'vitest';
import {
  FlightControl,
  INITIAL_BUDGET_BYTES,
  MIN_BUDGET_BYTES,
  MIN_MESSAGE_BYTES,
  MIN_ROOM,
  FULL_QUEUE_MS,
} from '../../agent/uplink/flight-control.js';
import { RTT_PROBE_MS } from '../../agent/uplink/round-trip.js';

function control(window = 20, queueMs = 500, messageMs = 250) {
  let now = 1000;
  const fc = new FlightControl({ window, queueMs, messageMs }, () => now);
  return { fc, advance: (ms: number) => (now += ms) };
}

/**
 * A link of `rate` bytes/s and a one-way `delayMs`: sends what the control admits in messages
 * of `size` bytes for `ms`, acknowledging each when it has crossed (serialised at the rate) and
 * the PUBACK come back; with `bunchMs`, PUBACKs are held and let go together every bunchMs (a
 * radio that delivers in bursts, a busy event loop). Returns the most bytes ever unacknowledged.
 */
function runLink(
  fc: FlightControl,
  advance: (ms: number) => number,
  rate: number,
  delayMs: number,
  size: number,
  ms: number,
  bunchMs = 0,
) {
  const acks: { at: number; token: number }[] = [];
  let t = 0;
  let wireFree = 0;
  let peak = 0;
  while (t < ms) {
    while (fc.admits(size, false)) {
      const token = fc.sent(size, false);
      wireFree = Math.max(wireFree, t) + (size / rate) * 1000;
      const at = wireFree + 2 * delayMs;
      acks.push({ at: bunchMs > 0 ? Math.ceil(at / bunchMs) * bunchMs : at, token });
      peak = Math.max(peak, fc.bytes);
    }
    acks.sort((a, b) => a.at - b.at);
    const next = acks.shift();
    if (!next) break;
    advance(next.at - t);
    t = next.at;
    fc.acked(next.token);
  }
  for (const a of acks.sort((x, y) => x.at - y.at)) {
    advance(a.at - t); // what is still in flight arrives: nothing is left over for the next run
    t = a.at;
    fc.acked(a.token);
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

  it('learns an EDGE link: grows with rate x (rtt + queueMs), then settles near rate x (rtt + 50 ms); a message near rate x messageMs', () => {
    const { fc, advance } = control(20, 500, 250);
    const rate = 12_500; // 100 kbit/s
    const growing = runLink(fc, advance, rate, 400, 1500, 30_000);
    expect(growing, 'while it grows, a queue of up to queueMs').toBeGreaterThan(rate * 1.3);
    // Messages of MIN_ROOM bytes: the drain cuts a batch to the room left, and waits for no more than that.
    const peak = runLink(fc, advance, rate, 400, MIN_ROOM, 30_000);
    const est = fc.rateBytesPerSec()!;
    expect(est).toBeGreaterThan(rate * 0.9);
    expect(est).toBeLessThan(rate * 1.1);
    expect(fc.minRttMs()).toBeGreaterThanOrEqual(800);
    expect(fc.minRttMs()).toBeLessThan(800 + 2 * (1500 / rate) * 1000);
    expect(fc.budgetBytes(), 'the link round trip of data, with room for one more message').toBeGreaterThanOrEqual(
      Math.floor((est * fc.minRttMs()!) / 1000 + MIN_ROOM),
    );
    // The rate stopped growing: rtt ~0.92 s + FULL_QUEUE_MS of queue, ~12 KB; an alarm finds ~50 ms of data ahead of it.
    expect(fc.budgetBytes()).toBeGreaterThan((rate * fc.minRttMs()!) / 1000);
    expect(fc.budgetBytes()).toBeLessThanOrEqual(
      Math.ceil((est * fc.minRttMs()!) / 1000 + Math.max(MIN_ROOM, (est * FULL_QUEUE_MS) / 1000)),
    );
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

  it('PUBACKs that come bunched do not inflate the rate, so they are no queue ahead of an alarm', () => {
    const { fc, advance } = control(20, 500, 250);
    const rate = 12_500;
    runLink(fc, advance, rate, 400, MIN_ROOM, 60_000, 300);
    // Per-message samples between two bunches overstate this link (16 KB/s); spans of three round
    // trips do not. Later PUBACKs than the probe's leave a budget of one round trip short, which
    // lowers the rate, but never below FULL_LOSS (0.75) of it: then the budget grows again.
    expect(fc.rateBytesPerSec()).toBeLessThan(rate * 1.03);
    expect(fc.rateBytesPerSec()).toBeGreaterThan(rate * 0.75);
    const queued = fc.budgetBytes() - (fc.rateBytesPerSec()! * fc.minRttMs()!) / 1000;
    expect(queued, 'bytes an alarm may find queued ahead of it').toBeLessThanOrEqual(
      Math.max(MIN_ROOM, (rate * FULL_QUEUE_MS) / 1000) + 1,
    );
  });

  it('never goes below its floors (the initial budget while growing, MIN_BUDGET_BYTES once full), and forgets what failed', () => {
    const { fc, advance } = control(20, 50, 10);
    const t = fc.sent(100, false);
    advance(10_000); // 100 bytes in 10 s: a dreadful sample
    fc.acked(t);
    expect(fc.budgetBytes(), 'growing: a flight onto an empty link understates the rate').toBe(INITIAL_BUDGET_BYTES);
    expect(fc.messageBytes()).toBe(MIN_MESSAGE_BYTES);
    runLink(fc, advance, 200, 100, 100, 1_000_000); // 200 B/s, 0.2 s: the rate never grows
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
