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
 *   budget = delivery rate x (shortest round trip + queueMs)          while the rate grows
 *   budget = delivery rate x shortest round trip + a little (see estimate)   once it stopped
 *
 * The round-trip part keeps the pipe full (a drain as fast as the link); what is above it waits
 * in the modem's queue, and an alarm behind it. Growing, `queueMs` of queue is what makes the
 * next rate sample bigger; once the rate stops growing (PipePhase) it would only be airtime
 * every alarm waits behind (0.76 s on the lab's edge-2g, measured), so the queue is cut to
 * FULL_QUEUE_MS or MIN_ROOM. One message is also held to `messageMs` of airtime, so an alarm
 * never waits behind one huge batch. The delivery rate is measured from PUBACKs the way BBR
 * measures it (bytes acknowledged between a message's send and its PUBACK, over the time
 * between), kept as the best sample of the last seconds; once the pipe is full, over spans of
 * several round trips (SpanRate), which PUBACKs that come bunched cannot inflate. Samples of
 * what the sender sent short of the budget (appLimited) never lower it. The round trip is the
 * shortest (RoundTrip): with our own data queued ahead, a round trip includes that queue, so it
 * is measured onto an empty link, and behind our queue counts only as a shorter one once the
 * pipe is full. While a backlog drains the link is never empty, so every RTT_PROBE_MS it is let
 * go empty once (non-critical sends wait for the last PUBACK: about one round trip idle), as
 * BBR's PROBE_RTT does. Until there is a sample, small initial figures apply, and a budget that
 * is used in full grows by about (1 + queueMs / rtt) per round trip, as TCP's slow start does,
 * never below the initial budget; a queue that every message finds for a while ends the growth
 * (PipePhase). What is admitted leaves paced (LinkPacer), not a whole budget at once.
 *
 * Count still matters: the broker's Receive Maximum (MQTT 5) is a hard limit, and one slot of
 * it is kept for critical events, which ignore the byte budget (an alarm is a few hundred
 * bytes and must never wait for room).
 */
import { PipePhase } from './pipe-phase.js';
import { RoundTrip } from './round-trip.js';
import { SpanRate } from './span-rate.js';
import { WindowedBest } from './windowed-best.js';

export interface FlightLimits {
  /** Unacknowledged messages at most (config inflightWindow, or the broker's Receive Maximum). */
  window: number;
  /** Airtime of queued data an alarm may find ahead of it. */
  queueMs: number;
  /** Airtime of one message at most (a batch is cut to fit). */
  messageMs: number;
}

/** Before the first PUBACK: about a TCP initial window, so a first burst never floods a 2G link. */
export const INITIAL_BUDGET_BYTES = 8 * 1024;
/** Never below this (a 2G link with a bad estimate must still move). */
export const MIN_BUDGET_BYTES = 4 * 1024;
/** One message may always be this big, whatever the estimate. */
export const MIN_MESSAGE_BYTES = 2 * 1024;
const MAX_BUDGET_BYTES = 64 * 1024 * 1024;
/** The delivery rate is the best sample over this long: long enough to see past a lull, short enough to follow a cell that got worse. */
const RATE_WINDOW_MS = 10_000;
/** The round-trip probe's size: its own airtime is in its round trip (164 ms for 2 KB on EDGE), and so in the budget. */
export const RTT_PROBE_BYTES = 512;
/** Once the pipe is full, the rate is the best delivery rate over this many round trips (see SpanRate). */
const SPAN_RTTS = 3;
/** Once the pipe is full, the queue an alarm may find is this (or queueMs if smaller), not queueMs. */
export const FULL_QUEUE_MS = 50;
/**
 * Below this much room a non-critical message waits for PUBACKs instead of going as a sliver
 * (drain.ts). A full pipe's budget keeps at least this much above the link's round trip of data,
 * or a sender waiting for room would leave the link short, lower its own rate, and shrink the
 * budget again, round after round.
 */
export const MIN_ROOM = 1024;

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
  /** Its round trip is the link's and what was queued ahead of it (not a picture's chunk). */
  rttSample: boolean;
  /** Bytes acknowledged, and when the last of them was, at the moment this message was sent. */
  deliveredAtSend: number;
  deliveredMsAtSend: number;
  /** Sent while the sender had less than the budget to send (see appLimited). */
  appLimited: boolean;
  /** Sent after a PUBACK of this busy stretch: what it waits behind is a queue, not the first flight. */
  afterAck: boolean;
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
  private readonly spans = new SpanRate(RATE_WINDOW_MS);
  private readonly rtts = new RoundTrip();
  /** The last rate sample (kept past the window, as the round trip is: a pause is no reason to forget the link). */
  private lastRate: number | null = null;
  private cached: Estimate | null = null;
  private readonly phase = new PipePhase();
  /** Samples of messages sent before this many bytes are delivered are app-limited (0: none). */
  private appLimitedUntil = 0;
  private ackedSinceIdle = false;

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

  /**
   * The rate to pace at (LinkPacer): the link's once the pipe is full; growing, the budget over a
   * round trip, so a step up in the budget leaves over a round trip, not at once (a burst is a
   * queue that passes, but an alarm behind it waits all the same); null before a round trip.
   */
  pacingRate(): number | null {
    const { rate, rtt, budget } = this.estimate();
    if (this.phase.full) return rate;
    return rtt === null || rtt <= 0 ? null : (budget * 1000) / rtt;
  }

  /** The biggest one message should be, in bytes on the wire. */
  messageBytes(): number {
    return this.estimate().message;
  }

  private estimate(): Estimate {
    const now = this.monoMs();
    if (this.cached && now - this.cached.atMs < ESTIMATE_EVERY_MS) return this.cached;
    const windowed = this.rates.best(now);
    // Once full, the budget is near the link's round trip of data, and an overstated rate is a queue.
    const rate = (this.phase.full ? this.spans.best(now) : null) ?? windowed ?? this.lastRate;
    const rtt = this.rtts.best(now);
    // An idle spell: the link may be another now; grow into it again.
    if (windowed === null) this.phase.idle();
    // While the rate grows, queueMs of queue is what makes the next sample bigger (slow start). Once
    // it stops, that queue would only be airtime every alarm waits behind: measured on edge-2g, 9.5 KB
    // (0.76 s) stood in the modem's buffer through a whole drain.
    const queueMs = this.phase.full ? Math.min(this.limits.queueMs, FULL_QUEUE_MS) : this.limits.queueMs;
    const queueBytes = rate === null ? 0 : (rate * queueMs) / 1000;
    const allowance = this.phase.full ? Math.max(queueBytes, MIN_ROOM) : queueBytes;
    // Growing into a link never filled, never below the initial budget: the first samples of a
    // flight onto an empty link understate the rate (they crossed an empty pipe), and took the
    // budget to its floor. A link filled once keeps its figures (a pause does not make it faster).
    const floor = this.phase.filledOnce ? MIN_BUDGET_BYTES : INITIAL_BUDGET_BYTES;
    const budget =
      rate === null
        ? INITIAL_BUDGET_BYTES
        : Math.round(Math.min(MAX_BUDGET_BYTES, Math.max(floor, (rate * (rtt ?? 0)) / 1000 + allowance)));
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
    const countFull = this.count - this.criticalCount >= slots || this.count >= window;
    if (!countFull && this.count === 0) return true;
    if (!countFull && this.rttSampleDue()) return false; // let it go empty
    if (!countFull && this.bytes + bytes <= this.budgetBytes()) return true;
    this.phase.heldBack();
    return false;
  }

  /**
   * The sender has nothing more to send now, or holds back on purpose (the round-trip probe).
   * What goes until the bytes in flight now are delivered fills less than the link, so its rate
   * samples say how much we had, not what the link carries: they may raise the rate, never lower
   * it (Linux's app-limited marking). Without this the probe's 512 bytes a round trip were the
   * link's rate at every connect (511 B/s on edge-2g: the budget fell to its floor and took 8 s
   * to grow back, 8 s of a growing queue for every alarm).
   */
  appLimited(): void {
    this.appLimitedUntil = Math.max(this.delivered + this.bytes, 1);
  }

  /**
   * A fresh round trip is wanted (none yet, or the last is RTT_PROBE_MS old). The message that
   * takes it goes onto an empty link and should be small: its own airtime is in its round trip.
   */
  rttSampleDue(): boolean {
    return this.rtts.probeDue(this.monoMs());
  }

  /**
   * A message went to the socket; the token identifies it at its PUBACK. `rttSample` false: its
   * round trip is never the link's (a picture's chunk is too big to be a probe; it still gives a rate).
   */
  sent(bytes: number, critical: boolean, rttSample = true): number {
    const now = this.monoMs();
    // An idle link: the rate interval starts now, not at the last PUBACK long ago.
    if (this.count === 0) {
      this.deliveredMs = now;
      this.spans.restart();
      this.ackedSinceIdle = false;
    }
    const token = this.nextToken++;
    this.inflight.set(token, {
      bytes,
      critical,
      sentMs: now,
      ontoEmptyLink: rttSample && this.count === 0,
      rttSample,
      deliveredAtSend: this.delivered,
      deliveredMsAtSend: this.deliveredMs,
      appLimited: this.appLimitedUntil > 0,
      afterAck: this.ackedSinceIdle,
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
    this.ackedSinceIdle = true;
    if (this.appLimitedUntil > 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    // Behind our own queue, only once the pipe is full (see RoundTrip).
    if (m.ontoEmptyLink || (m.rttSample && this.phase.full)) this.rtts.add(now, now - m.sentMs, m.ontoEmptyLink);
    if (m.ontoEmptyLink) this.cached = null; // a fresh round trip counts at once (it may end a probe)
    // A sample over less than a round trip is PUBACKs that arrived bunched (a busy event loop, a
    // radio that delivers in bursts): it overstates the rate, so it is left out, as Linux's
    // delivery-rate sampling does.
    const interval = now - m.deliveredMsAtSend;
    const rtt = this.minRttMs();
    const sample = ((this.delivered - m.deliveredAtSend) * 1000) / interval;
    if (interval > 0 && (rtt === null || interval >= rtt) && (!m.appLimited || sample > this.rateToBeat(now, rtt))) {
      this.lastRate = sample;
      this.rates.add(now, sample);
      // The first rate, or the first after an idle spell, counts at once.
      if (this.cached && (this.cached.rate === null || this.cached.stale)) this.cached = null;
    }
    if (m.appLimited) this.spans.restart();
    else if (rtt !== null) this.spans.add(now, this.delivered, SPAN_RTTS * rtt);
    // What it waited behind: its round trip less the link's and its own airtime (PipePhase's delay signal).
    const est = this.rates.best(now) ?? this.lastRate;
    const queue =
      m.afterAck && rtt !== null && rtt > 0 && est !== null
        ? { delayMs: now - m.sentMs - rtt - (m.bytes * 1000) / est, rttMs: rtt }
        : null;
    if (this.phase.acked(m.deliveredAtSend, this.delivered, this.rates.best(now), this.spans.best(now), queue)) {
      if (!this.phase.full) this.spans.forget(); // grow again, from fresh spans
      this.cached = null;
    }
  }

  /** What an app-limited sample must exceed to count: the rate known, else the initial budget's. */
  private rateToBeat(now: number, rtt: number | null): number {
    return this.rates.best(now) ?? this.lastRate ?? (INITIAL_BUDGET_BYTES * 1000) / ((rtt ?? 0) + this.limits.queueMs);
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
