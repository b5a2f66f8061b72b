/**
 * Puts non-critical bytes on the link at the rate it delivers, not a whole budget at once.
 *
 * The airtime budget (FlightControl) bounds what is unacknowledged, not how fast it leaves: after
 * the round-trip probe has let the link go empty, the whole budget (13 KB on the lab's edge-2g,
 * ~1 s of airtime) went to the socket in one go and stood in the modem's queue; an alarm pressed
 * then waited behind it (1,095-1,442 ms against 520 ms steady, traced). Paced at the delivery
 * rate, the refill crosses the link as fast as it leaves our hands, so the modem's queue stays
 * what the budget's small allowance makes it, empty link or not (BBR paces for the same reason).
 *
 * A credit of bytes grows at the rate, up to `burst` (what may leave at once after a pause); a
 * message goes while the credit is not negative and spends its size, so one bigger than the
 * credit still goes, and the next waits until the link has carried it. Critical messages are
 * never held, but their bytes are spent too: they occupied the link. The rate is FlightControl's
 * pacingRate(): the link's once the pipe is full; while it grows, the budget over a round trip
 * (growth needs its queue to find the rate, not the bursts); none before a round trip is known.
 */
import { MIN_ROOM } from './flight-control.js';

/**
 * What may leave at once: this much airtime, or MIN_ROOM (a message smaller than that is a
 * sliver). Paced, a message is cut to it too: a 3 KB batch (messageMs) is 250 ms of edge-2g that
 * an alarm sent just after it waits behind.
 */
export const PACE_BURST_MS = 50;

/**
 * Paced a little faster than the rate measured: the budget, not the pacer, stays what holds a
 * steady drain back, so a round still ends held back (PipePhase) and a link that got faster is
 * still found; the refill after an empty link puts at most ~1 - 1 / PACE_GAIN of the budget in
 * the modem's queue (1.2 KB of edge-2g's 13 KB) instead of all of it.
 */
export const PACE_GAIN = 1.1;

export class LinkPacer {
  private credit = 0;
  private atMs: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  /**
   * `link.pacingRate()`: bytes/s to pace at, or null (unpaced); `wake`: the sender, called when a
   * held message may go; `messagesPerSec`: the replay pacing's message rate (token-bucket.ts).
   */
  constructor(
    private readonly link: { pacingRate(): number | null },
    private readonly monoMs: () => number,
    private readonly wake: () => void,
    private readonly messagesPerSec = Infinity,
  ) {}

  /** The most one non-critical message should take now (Infinity: unpaced). */
  quantum(): number {
    const rate = this.rate();
    return rate === null || rate <= 0 ? Infinity : this.burstOf(rate);
  }

  /** May a non-critical message go now? If not, a timer calls `wake` once it may. */
  ready(): boolean {
    const rate = this.rate();
    if (rate === null || rate <= 0) return true;
    this.refill(rate);
    if (this.credit >= 0) return true;
    this.timer ??= setTimeout(
      () => {
        this.timer = null;
        this.wake();
      },
      Math.ceil((-this.credit * 1000) / rate),
    );
    return false;
  }

  /** `bytes` went to the socket (any message, critical or not). */
  spent(bytes: number): void {
    const rate = this.rate();
    if (rate === null || rate <= 0) {
      this.atMs = null; // unpaced: pacing, when it begins, starts from a full credit
      return;
    }
    this.refill(rate);
    this.credit -= bytes;
  }

  /** A new connection or none: no timer, and the credit starts full again. */
  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.credit = 0;
    this.atMs = null;
  }

  /**
   * Half the replay pacing's message rate must carry the pace: messages cut to 50 ms of weak-3g
   * (2.4 KB) at its 20 a second held the drain to 44 of the link's 48 KB/s (weaklink.drain 1.38).
   */
  private burstOf(rate: number): number {
    const perMessage = this.messagesPerSec > 0 ? (2 * rate) / this.messagesPerSec : 0; // 0: replay unpaced
    return Math.max(MIN_ROOM, (rate * PACE_BURST_MS) / 1000, perMessage);
  }

  private rate(): number | null {
    const rate = this.link.pacingRate();
    return rate === null ? null : rate * PACE_GAIN;
  }

  private refill(rate: number): void {
    const burst = this.burstOf(rate);
    const now = this.monoMs();
    if (this.atMs === null) this.credit = burst;
    else this.credit = Math.min(burst, this.credit + ((now - this.atMs) * rate) / 1000);
    this.atMs = now;
  }
}
