import { WindowedBest } from './windowed-best.js';

const RTT_WINDOW_MS = 30_000;
/** A draining link is let go empty this often for a fresh round-trip sample. */
export const RTT_PROBE_MS = 20_000;

/**
 * The link's round trip: the shortest PUBACK round trip of the last half minute, else the last
 * one onto an empty link (kept past the window: a pause is no reason to forget the link).
 *
 * Onto an empty link a round trip is the link's (the probe, FlightControl). Behind our own queue
 * it is the link's and that queue, never less, so it can only lower the shortest; counted once
 * the pipe is full, the least of them is the link's with the least jitter. The probe's alone
 * (one in 20 s) caught the lab's jitter: 976 ms on edge-2g against ~850 ms, 1.6 KB more budget,
 * queued ahead of every alarm.
 */
export class RoundTrip {
  private readonly samples = new WindowedBest(RTT_WINDOW_MS, Math.min);
  private last: number | null = null;
  private lastAtMs = -Infinity;

  /** A PUBACK's round trip; `ontoEmptyLink`: the message went alone (a probe). */
  add(nowMs: number, ms: number, ontoEmptyLink: boolean): void {
    this.samples.add(nowMs, ms);
    if (!ontoEmptyLink) return;
    this.last = ms;
    this.lastAtMs = nowMs;
  }

  /** The shortest of the window, else the last probe's, or null before any. */
  best(nowMs: number): number | null {
    return this.samples.best(nowMs) ?? this.last;
  }

  /** A fresh empty-link round trip is wanted: none yet, or the last is RTT_PROBE_MS old. */
  probeDue(nowMs: number): boolean {
    return this.last === null || nowMs - this.lastAtMs > RTT_PROBE_MS;
  }
}
