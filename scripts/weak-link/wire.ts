/**
 * One direction of a weak link: a modem's bounded buffer in front of a FIFO radio "wire".
 *
 * Every connection through the link shares it, as they share one modem. A chunk read from a
 * source socket is cut into segments (at most one TCP segment each) and queued; the wire sends
 * one segment at a time at the rate R, so a segment of n bytes departs at
 * max(now, wire free) + n / R, and arrives delay + jitter later. Arrivals never overtake each
 * other (TCP is in order): a segment whose jitter would land it before the previous one arrives
 * with it instead (counted in `jitterClamps`). The queue (bytes accepted, not yet departed) never
 * holds more than `bufferBytes`: a chunk that does not fit waits with its flow and the flow's
 * source socket is paused until there is room (backpressure, as a full modem stops taking data);
 * nothing is dropped and nothing grows without bound (one read chunk per paused flow at most).
 *
 * In a blackhole nothing departs or arrives; what was on the air then arrives no sooner than one
 * delay after the link is back (TCP sends it again). Times are virtual: a late timer sends
 * everything that was due, so timer lateness on a busy machine does not lower the rate.
 */
import { type Socket } from 'node:net';

/** One direction of one connection: where its bytes come from and go to. */
export interface Flow {
  source: Socket;
  /** null while the far side is not connected yet. */
  dest(): Socket | null;
  /** What the far side gets when the source ended (`end`: FIN) or broke (`abort`: RST). */
  finish(kind: 'end' | 'abort'): void;
}

/** The shape the wire reads for every segment, so a profile change applies at once. */
export interface WireShape {
  delayMs: number;
  jitterMs: number;
  rateBitsPerSec: number;
  bufferBytes: number;
}

export interface WireCounters {
  /** Bytes read from the sources. */
  receivedBytes: number;
  /** Bytes written to the destinations (on the wire, end to end). */
  forwardedBytes: number;
  /** Bytes thrown away when their connection was cut or reset before they arrived. */
  droppedBytes: number;
  /** Bytes read and thrown away while the direction was losing everything (`WeakLink.lose`). */
  lostBytes: number;
  /** The most bytes the buffer ever held (never above bufferBytes). */
  maxQueuedBytes: number;
  /** Times a source was paused because the buffer was full. */
  pauses: number;
  /** Segments whose jitter would have overtaken the one before (they arrived with it instead). */
  jitterClamps: number;
}

type Kind = 'data' | 'end' | 'abort';
interface Segment {
  flow: Flow;
  kind: Kind;
  bytes: Buffer;
}
interface Arrival extends Segment {
  at: number;
}

/** One TCP segment on a 1500-byte MTU: the unit that departs and arrives. */
export const SEGMENT_BYTES = 1460;

export class Wire {
  readonly counters: WireCounters = {
    receivedBytes: 0,
    forwardedBytes: 0,
    droppedBytes: 0,
    lostBytes: 0,
    maxQueuedBytes: 0,
    pauses: 0,
    jitterClamps: 0,
  };
  queuedBytes = 0;
  inFlightBytes = 0;
  private readonly queue: Segment[] = [];
  private readonly inFlight: Arrival[] = [];
  /** Flows with segments that did not fit, first come first served; their sources are paused. */
  private readonly waiting = new Map<Flow, Segment[]>();
  private wireFree = 0;
  private idle = true;
  private lastArrival = 0;
  private wasHeld = false;
  private sendTimer: NodeJS.Timeout | null = null;
  private arriveTimer: NodeJS.Timeout | null = null;
  /** A destination that said "enough" (write returned false): nothing departs until it drains. */
  private blockedBy: Flow | null = null;
  private closed = false;

  constructor(
    private readonly shape: () => WireShape,
    /** True while the link carries nothing (blackhole). */
    private readonly held: () => boolean,
    /** True while this direction throws away what it reads (a broken stream, not a blackhole). */
    private readonly losing: () => boolean,
    private readonly random: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get waitingBytes(): number {
    let n = 0;
    for (const segs of this.waiting.values()) for (const s of segs) n += s.bytes.length;
    return n;
  }

  /** Bytes read from `flow`'s source. */
  push(flow: Flow, chunk: Buffer): void {
    if (this.closed) return;
    this.counters.receivedBytes += chunk.length;
    if (this.losing()) {
      this.counters.lostBytes += chunk.length;
      return;
    }
    // Without a rate nothing is gained by cutting (and writes of 1460 bytes cost throughput); a
    // piece never exceeds the buffer, so an empty buffer always takes the next one.
    const { rateBitsPerSec, bufferBytes } = this.shape();
    const size = rateBitsPerSec > 0 ? SEGMENT_BYTES : bufferBytes;
    const segs: Segment[] = [];
    for (let i = 0; i < chunk.length; i += size) segs.push({ flow, kind: 'data', bytes: chunk.subarray(i, i + size) });
    this.enqueue(flow, segs);
  }

  /** The source ended or broke: the far side learns it after the bytes before it. */
  mark(flow: Flow, kind: 'end' | 'abort'): void {
    this.enqueue(flow, [{ flow, kind, bytes: Buffer.alloc(0) }]);
  }

  /** Forgets a flow's bytes (its connection was cut or reset); returns how many were dropped. */
  drop(flow: Flow): number {
    const strip = (list: Segment[]): number => {
      let bytes = 0;
      const kept = list.filter((s) => s.flow !== flow || ((bytes += s.bytes.length), false));
      list.splice(0, list.length, ...kept);
      return bytes;
    };
    const queued = strip(this.queue);
    const inFlight = strip(this.inFlight);
    const waiting = strip(this.waiting.get(flow) ?? []);
    this.queuedBytes -= queued;
    this.inFlightBytes -= inFlight;
    this.waiting.delete(flow);
    if (this.blockedBy === flow) this.blockedBy = null;
    this.counters.droppedBytes += queued + inFlight + waiting;
    this.kick();
    return queued + inFlight + waiting;
  }

  /** Something changed (the link passes again, a destination connected): send what can go. */
  kick(): void {
    if (this.closed) return;
    this.admit();
    this.send();
    this.arrive();
  }

  /** Stops the timers for good (the link is stopping); what comes later is ignored. */
  close(): void {
    this.closed = true;
    if (this.sendTimer) clearTimeout(this.sendTimer);
    if (this.arriveTimer) clearTimeout(this.arriveTimer);
    this.sendTimer = this.arriveTimer = null;
  }

  private enqueue(flow: Flow, segs: Segment[]): void {
    const already = this.waiting.get(flow);
    if (already) already.push(...segs);
    else this.waiting.set(flow, segs);
    this.kick();
  }

  /** Moves waiting segments into the buffer while they fit; pauses the sources of those that do not. */
  private admit(): void {
    const { bufferBytes } = this.shape();
    let full = false;
    for (const [flow, segs] of this.waiting) {
      // First come first served: once one flow does not fit, the later ones wait behind it.
      while (!full && segs.length > 0) {
        if (this.queuedBytes + segs[0]!.bytes.length > bufferBytes) full = true;
        else {
          const seg = segs.shift()!;
          this.queue.push(seg);
          this.queuedBytes += seg.bytes.length;
        }
      }
      if (segs.length > 0) {
        if (!flow.source.isPaused()) {
          flow.source.pause();
          this.counters.pauses += 1;
        }
        continue;
      }
      this.waiting.delete(flow);
      if (flow.source.isPaused() && !flow.source.destroyed) flow.source.resume();
    }
    this.counters.maxQueuedBytes = Math.max(this.counters.maxQueuedBytes, this.queuedBytes);
  }

  private send(): void {
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    const now = this.now();
    if (this.held() || this.blockedBy || this.queue.length === 0) {
      this.idle = true;
      return;
    }
    if (this.idle) {
      this.wireFree = Math.max(this.wireFree, now); // the wire was idle: it starts now
      this.idle = false;
    }
    const { rateBitsPerSec } = this.shape();
    while (this.queue.length > 0 && !this.blockedBy) {
      const seg = this.queue[0]!;
      const departAt = this.wireFree + (rateBitsPerSec > 0 ? (seg.bytes.length * 8000) / rateBitsPerSec : 0);
      if (departAt > now) {
        this.sendTimer = setTimeout(() => this.kick(), departAt - now);
        return;
      }
      this.queue.shift();
      this.queuedBytes -= seg.bytes.length;
      this.wireFree = departAt;
      this.depart(seg, departAt);
      this.admit();
    }
    this.idle = this.queue.length === 0;
    this.arrive();
  }

  private depart(seg: Segment, at: number): void {
    const { delayMs, jitterMs } = this.shape();
    let arriveAt = at + delayMs + this.random() * jitterMs;
    if (arriveAt < this.lastArrival) {
      arriveAt = this.lastArrival;
      this.counters.jitterClamps += 1;
    }
    this.lastArrival = arriveAt;
    this.inFlight.push({ ...seg, at: arriveAt });
    this.inFlightBytes += seg.bytes.length;
  }

  private arrive(): void {
    if (this.arriveTimer) clearTimeout(this.arriveTimer);
    this.arriveTimer = null;
    const now = this.now();
    if (this.held()) {
      this.wasHeld = true; // lost on the air: TCP sends them again once the link is back
      return;
    }
    if (this.wasHeld) this.retransmitted(now);
    while (this.inFlight.length > 0) {
      const a = this.inFlight[0]!;
      if (a.at > now) {
        this.arriveTimer = setTimeout(() => this.arrive(), a.at - now);
        return;
      }
      this.inFlight.shift();
      this.inFlightBytes -= a.bytes.length;
      this.deliver(a);
    }
  }

  /** After a blackhole what was on the air crosses again: nothing arrives sooner than one delay. */
  private retransmitted(now: number): void {
    this.wasHeld = false;
    const floor = now + this.shape().delayMs;
    for (const a of this.inFlight) if (a.at < floor) a.at = floor; // still in order: all raised to one time
    if (this.inFlight.length > 0) this.lastArrival = Math.max(this.lastArrival, floor);
  }

  private deliver(seg: Segment): void {
    if (seg.kind !== 'data') {
      seg.flow.finish(seg.kind);
      return;
    }
    const dest = seg.flow.dest();
    if (!dest || dest.destroyed || dest.writableEnded) {
      this.counters.droppedBytes += seg.bytes.length;
      return;
    }
    this.counters.forwardedBytes += seg.bytes.length;
    if (!dest.write(seg.bytes) && !this.blockedBy) {
      this.blockedBy = seg.flow;
      dest.once('drain', () => {
        if (this.blockedBy === seg.flow) this.blockedBy = null;
        this.kick();
      });
    }
  }
}
