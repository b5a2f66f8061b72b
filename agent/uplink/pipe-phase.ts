/**
 * Whether the uplink is still growing into the link or has filled it (BBR's STARTUP, then a
 * steady phase), counted in round trips: a round ends with the PUBACK of a message sent after
 * the previous round ended.
 *
 * Growing, the budget keeps queueMs of queue above the round trip of data: that queue is what
 * makes the next rate sample bigger. Once FULL_ROUNDS round trips, each with the budget used up,
 * did not raise the rate by FULL_GROWTH, more queue only adds airtime every alarm waits behind,
 * and FlightControl keeps the budget near the link's round trip of data.
 */
const FULL_ROUNDS = 2;
const FULL_GROWTH = 1.25;
/**
 * A full pipe whose rate fell below this share of the rate it filled at grows again. A budget of
 * barely the round trip of data is short whenever PUBACKs come later than the probe's did; the
 * link is then left idle a little, the rate falls, and the budget with it, round after round.
 */
const FULL_LOSS = 0.75;
/**
 * QUEUE_SAMPLES messages in a row that each found this share of a round trip queued ahead of
 * them end the growth at once (HyStart's delay signal; in a row, so that jitter and a passing
 * burst do not count): the link was busy meanwhile, so the rate is the link's. Waiting for two
 * rounds without growth instead kept edge-2g's growth queue (7-10 KB, 0.6-0.8 s ahead of every
 * alarm) for 5-6 s after the rate had stopped growing; a round's least delay, a round later.
 */
const QUEUE_SHARE = 0.3;
const QUEUE_SAMPLES = 4;

export class PipePhase {
  /** The rate stopped growing. */
  full = false;
  /** It did once on this link (an idle spell does not forget it). */
  filledOnce = false;
  /** Bytes delivered when the current round began. */
  private roundEndDelivered = 0;
  /** The budget held a message back in this round: its rate is what the link carries, not what we had to send. */
  private heldBackThisRound = false;
  private fullRate = 0;
  private rounds = 0;
  /** Messages in a row that found QUEUE_SHARE of a round trip queued ahead of them. */
  private queuedInARow = 0;

  /** The budget (or the count window) held a message back. */
  heldBack(): void {
    this.heldBackThisRound = true;
  }

  /** The link was idle past the rate's window: it may be another now; grow into it again. */
  idle(): void {
    this.full = false;
    this.fullRate = 0;
    this.rounds = 0;
    this.queuedInARow = 0; // a queue seen before the pause says nothing of the link now
  }

  /**
   * A PUBACK of a message sent when `deliveredAtSend` bytes were delivered (`delivered` now).
   * `rate` is the growing estimate, `spanRate` the full pipe's; `queue` what the message waited
   * behind and the link's round trip, in ms (null: not known, or it went onto an empty link).
   * Returns whether the phase changed.
   */
  acked(
    deliveredAtSend: number,
    delivered: number,
    rate: number | null,
    spanRate: number | null,
    queue: { delayMs: number; rttMs: number } | null = null,
  ): boolean {
    if (queue) this.queuedInARow = queue.delayMs >= QUEUE_SHARE * queue.rttMs ? this.queuedInARow + 1 : 0;
    // Once a span rate is known (FlightControl budgets from it once full). The growing estimate is
    // what a later loss is measured against: PUBACKs held and let go together (300 ms in a test)
    // also look like a queue, and a full pipe sized from their span rate shrank round after round.
    if (!this.full && this.queuedInARow >= QUEUE_SAMPLES && spanRate !== null) {
      this.fullRate = Math.max(spanRate, rate ?? 0);
      return this.fill();
    }
    if (deliveredAtSend < this.roundEndDelivered) return false;
    this.roundEndDelivered = delivered;
    const heldBack = this.heldBackThisRound;
    this.heldBackThisRound = false;
    if (!heldBack || rate === null) return false;
    if (this.full) {
      if (spanRate === null || spanRate >= this.fullRate * FULL_LOSS) return false;
      this.full = false;
      this.fullRate = rate;
      this.rounds = 0;
      return true;
    }
    if (rate >= this.fullRate * FULL_GROWTH) {
      this.fullRate = rate;
      this.rounds = 0;
      return false;
    }
    if (++this.rounds < FULL_ROUNDS) return false;
    return this.fill();
  }

  private fill(): boolean {
    this.full = true;
    this.filledOnce = true;
    this.rounds = 0;
    this.queuedInARow = 0;
    return true;
  }
}
