/**
 * How much the uplink puts on the link at once: "alarms first" on the wire, not only in the
 * outbox.
 *
 * Once a message is handed to the socket it is in a queue we no longer control (the socket
 * buffer, the modem's buffer, the cell's scheduler), and an alarm published after it waits
 * until it has crossed the link. A window that counts messages does not bound that wait: 20
 * batches of 47 KB are over a minute of airtime on an EDGE link. So what is unacknowledged is
 * bounded by bytes too, sized from what the link is measured to carry:
 *
 *   budget = delivery rate x (shortest round trip + queueMs)
 *
 * The round-trip part keeps the pipe full (a drain as fast as the link); `queueMs` is how much
 * airtime of data an alarm may find queued ahead of it. One message is also held to
 * `messageMs` of airtime, so an alarm never waits behind one huge batch. The delivery rate is
 * measured from PUBACKs the way BBR measures it (bytes acknowledged between a message's send
 * and its PUBACK, over the time between), kept as the best sample of the last seconds. The
 * round trip is measured only on messages sent onto an empty link: with our own data queued
 * ahead, a round trip includes that queue, and a budget sized from it would grow its own queue
 * without end. While a backlog drains the link is never empty, so every RTT_PROBE_MS it is let
 * go empty once (non-critical sends wait for the last PUBACK: about one round trip idle), as
 * BBR's PROBE_RTT does. Until there is a sample, small initial figures apply, and a budget that
 * is used in full grows by about (1 + queueMs / rtt) per round trip, as TCP's slow start does.
 *
 * Count still matters: the broker's Receive Maximum (MQTT 5) is a hard limit, and one slot of
 * it is kept for critical events, which ignore the byte budget (an alarm is a few hundred
 * bytes and must never wait for room).
 */

export interface FlightLimits {
  /** Unacknowledged messages at most (config inflightWindow, or the broker's Receive Maximum). */
  window: number;
  /** Airtime of queued data an alarm may find ahead of it. */
  queueMs: number;
  /** Airtime of one message at most (a batch is cut to fit). */
  messageMs: number;
}

/** Before the first PUBACK: about a TCP initial window, so a first burst never floods a 2G link. */
export const INITIAL_BUDGET_BYTES = 16 * 1024;
/** Never below this (a 2G link with a bad estimate must still move). */
export const MIN_BUDGET_BYTES = 4 * 1024;
/** One message may always be this big, whatever the estimate. */
export const MIN_MESSAGE_BYTES = 2 * 1024;
const MAX_BUDGET_BYTES = 64 * 1024 * 1024;
/** The delivery rate is the best sample over this long: long enough to see past a lull, short enough to follow a cell that got worse. */
const RATE_WINDOW_MS = 10_000;
const RTT_WINDOW_MS = 30_000;
/** A draining link is let go empty this often for a fresh round-trip sample. */
export const RTT_PROBE_MS = 20_000;

interface Estimate {
  atMs: number;
  rate: number | null;
  rtt: number | null;
  budget: number;
  message: number;
  /** The rate is the last sample from before the window (an idle link): a new sample replaces it at once. */
  stale: boolean;
}

interface InFlight {
  bytes: number;
  critical: boolean;
  sentMs: number;
  /** Sent when nothing of ours was in flight: its round trip is the link's, without our queue. */
  ontoEmptyLink: boolean;
  /** Bytes acknowledged, and when the last of them was, at the moment this message was sent. */
  deliveredAtSend: number;
  deliveredMsAtSend: number;
}

/**
 * The best (max or min) value seen over the last `windowMs`, kept as one value per second, so
 * a fast link acknowledging thousands of messages a second costs a few numbers, not thousands.
 */
class WindowedBest {
  private readonly buckets: { second: number; value: number }[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly better: (a: number, b: number) => number,
  ) {}

  add(nowMs: number, value: number): void {
    const second = Math.floor(nowMs / 1000);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.second === second) last.value = this.better(last.value, value);
    else this.buckets.push({ second, value });
  }

  best(nowMs: number): number | null {
    const oldest = Math.floor((nowMs - this.windowMs) / 1000);
    while (this.buckets.length > 0 && this.buckets[0]!.second < oldest) this.buckets.shift();
    let best: number | null = null;
    for (const b of this.buckets) best = best === null ? b.value : this.better(best, b.value);
    return best;
  }
}

/** The estimates are read for every message; worked out again at most this often (a fast link acknowledges thousands a second). */
const ESTIMATE_EVERY_MS = 50;

export class FlightControl {
  bytes = 0;
  count = 0;
  criticalCount = 0;
  private readonly inflight = new Map<number, InFlight>();
  private nextToken = 1;
  private delivered = 0;
  private deliveredMs = 0;
  private readonly rates = new WindowedBest(RATE_WINDOW_MS, Math.max);
  private readonly rtts = new WindowedBest(RTT_WINDOW_MS, Math.min);
  /** The last empty-link round trip, and when (kept past the window: the best guess until the next probe). */
  private lastRtt: number | null = null;
  private lastRttAtMs = -Infinity;
  /** The last rate sample (kept past the window, as lastRtt is: a pause is no reason to forget the link). */
  private lastRate: number | null = null;
  private cached: Estimate | null = null;

  constructor(
    private limits: FlightLimits,
    private readonly monoMs: () => number,
  ) {}

  /** A new connection: nothing is in flight; the link's estimates are kept (it is most likely the same cell). */
  reset(window: number): void {
    this.limits = { ...this.limits, window };
    this.cached = null;
    this.inflight.clear();
    this.bytes = 0;
    this.count = 0;
    this.criticalCount = 0;
  }

  /** Bytes per second the link delivered (best recent sample), or null before any. */
  rateBytesPerSec(): number | null {
    return this.estimate().rate;
  }

  /** The shortest empty-link PUBACK round trip of the last half minute (else the last one), or null before any. */
  minRttMs(): number | null {
    return this.estimate().rtt;
  }

  /** What may be unacknowledged at once, in bytes. */
  budgetBytes(): number {
    return this.estimate().budget;
  }

  /** The biggest one message should be, in bytes on the wire. */
  messageBytes(): number {
    return this.estimate().message;
  }

  private estimate(): Estimate {
    const now = this.monoMs();
    if (this.cached && now - this.cached.atMs < ESTIMATE_EVERY_MS) return this.cached;
    const windowed = this.rates.best(now);
    const rate = windowed ?? this.lastRate;
    const rtt = this.rtts.best(now) ?? this.lastRtt;
    const budget =
      rate === null
        ? INITIAL_BUDGET_BYTES
        : Math.round(
            Math.min(MAX_BUDGET_BYTES, Math.max(MIN_BUDGET_BYTES, (rate * ((rtt ?? 0) + this.limits.queueMs)) / 1000)),
          );
    const fit = rate === null ? INITIAL_BUDGET_BYTES / 2 : (rate * this.limits.messageMs) / 1000;
    const message = Math.round(Math.max(MIN_MESSAGE_BYTES, Math.min(fit, budget)));
    this.cached = { atMs: now, rate, rtt, budget, message, stale: windowed === null };
    return this.cached;
  }

  /**
   * May a message of this size go now? Critical: while a count slot is free. Others: while
   * one slot stays free for an alarm and the bytes fit the budget (one message always fits
   * an empty link, or a big one would never go).
   */
  admits(bytes: number, critical: boolean): boolean {
    const { window } = this.limits;
    if (critical) return this.count < window;
    const slots = window > 1 ? window - 1 : window;
    if (this.count - this.criticalCount >= slots || this.count >= window) return false;
    if (this.count === 0) return true;
    if (this.rttSampleDue()) return false; // let it go empty
    return this.bytes + bytes <= this.budgetBytes();
  }

  /**
   * A fresh round trip is wanted (none yet, or the last is RTT_PROBE_MS old). The message that
   * takes it goes onto an empty link and should be small: its own airtime is in its round trip.
   */
  rttSampleDue(): boolean {
    return this.lastRtt === null || this.monoMs() - this.lastRttAtMs > RTT_PROBE_MS;
  }

  /**
   * A message went to the socket; the token identifies it at its PUBACK. `rttSample` false: its
   * round trip is never the link's (a picture's chunk is too big to be a probe; it still gives a rate).
   */
  sent(bytes: number, critical: boolean, rttSample = true): number {
    const now = this.monoMs();
    // An idle link: the rate interval starts now, not at the last PUBACK long ago.
    if (this.count === 0) this.deliveredMs = now;
    const token = this.nextToken++;
    this.inflight.set(token, {
      bytes,
      critical,
      sentMs: now,
      ontoEmptyLink: rttSample && this.count === 0,
      deliveredAtSend: this.delivered,
      deliveredMsAtSend: this.deliveredMs,
    });
    this.bytes += bytes;
    this.count += 1;
    if (critical) this.criticalCount += 1;
    return token;
  }

  /** Its PUBACK came: a rate and a round-trip sample. */
  acked(token: number): void {
    const m = this.forget(token);
    if (!m) return;
    const now = this.monoMs();
    this.delivered += m.bytes;
    this.deliveredMs = now;
    if (m.ontoEmptyLink) {
      this.rtts.add(now, now - m.sentMs);
      this.lastRtt = now - m.sentMs;
      this.lastRttAtMs = now;
      this.cached = null; // a fresh round trip counts at once (it may end a probe)
    }
    // A sample over less than a round trip is PUBACKs that arrived bunched (a busy event loop, a
    // radio that delivers in bursts): it overstates the rate, so it is left out, as Linux's
    // delivery-rate sampling does.
    const interval = now - m.deliveredMsAtSend;
    const rtt = this.minRttMs();
    if (interval > 0 && (rtt === null || interval >= rtt)) {
      this.lastRate = ((this.delivered - m.deliveredAtSend) * 1000) / interval;
      this.rates.add(now, this.lastRate);
      // The first rate, or the first after an idle spell, counts at once.
      if (this.cached && (this.cached.rate === null || this.cached.stale)) this.cached = null;
    }
  }

  /** Not acknowledged (refused, or the link went): out of the books, no sample. */
  failed(token: number): void {
    this.forget(token);
  }

  /** The oldest critical message still unacknowledged: when it was sent, or null. */
  oldestCriticalSentMs(): number | null {
    for (const m of this.inflight.values()) if (m.critical) return m.sentMs; // Map keeps send order
    return null;
  }

  private forget(token: number): InFlight | undefined {
    const m = this.inflight.get(token);
    if (!m) return undefined;
    this.inflight.delete(token);
    this.bytes -= m.bytes;
    this.count -= 1;
    if (m.critical) this.criticalCount -= 1;
    return m;
  }
}
