import { WindowedBest } from './windowed-best.js';

/**
 * The delivery rate over spans of several round trips, for a link whose PUBACKs come bunched.
 *
 * A per-message sample spans about one round trip, from one PUBACK to another. A PUBACK the
 * radio (or a busy event loop) held back and then let go with the next ones shortens that span
 * by the delay, and the best of many such samples overstates the link: 13.7 KB/s measured on
 * the lab's edge-2g (12.5 KB/s, PUBACKs up to 100 ms late), which stood as a queue every alarm
 * waited behind. Over a span of several round trips the same delay weighs a fraction as much.
 * A span is a stretch in which the budget, not the sender, was the limit: the owner restarts it
 * on an app-limited message or an empty link. At most ~16 points are kept, however fast the link.
 */
export class SpanRate {
  private points: { ms: number; delivered: number }[] = [];
  private samples: WindowedBest;

  constructor(private readonly windowMs: number) {
    this.samples = new WindowedBest(windowMs, Math.max);
  }

  /** A new span (the last one's samples stay). */
  restart(): void {
    this.points = [];
  }

  /** Forget the samples too: the rate is to be learned again. */
  forget(): void {
    this.points = [];
    this.samples = new WindowedBest(this.windowMs, Math.max);
  }

  /** A PUBACK: `delivered` bytes acknowledged in all so far; a sample once the span is `spanMs` long. */
  add(nowMs: number, delivered: number, spanMs: number): void {
    const last = this.points[this.points.length - 1];
    if (!last || nowMs - last.ms >= spanMs / 16) this.points.push({ ms: nowMs, delivered });
    while (this.points.length > 1 && nowMs - this.points[1]!.ms >= spanMs) this.points.shift();
    const first = this.points[0]!;
    if (nowMs - first.ms >= spanMs)
      this.samples.add(nowMs, ((delivered - first.delivered) * 1000) / (nowMs - first.ms));
  }

  /** The best span rate of the window, or null. */
  best(nowMs: number): number | null {
    return this.samples.best(nowMs);
  }
}
