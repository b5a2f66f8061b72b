/**
 * Moves events from the outbox to the broker.
 *
 * Reads the outbox in replay order (priority, then commit order) a page at a time, so memory stays
 * flat however long the backlog. Critical events always go alone and first; when a backlog
 * exists the rest go as batches bounded by count and bytes. What is unacknowledged is bounded
 * by count and by the link's measured airtime (FlightControl), so an alarm finds at most a
 * moment of data ahead of it on the wire; a row is deleted only after its PUBACK. A new event
 * more urgent than where the reader stands makes it start again from the top, so an alarm
 * never queues behind telemetry. On a new connection everything not acknowledged is read
 * again and re-sent with the same event ids. An alarm whose PUBACK does not come in time
 * means a dead link that TCP has not noticed: the connection is dropped and tried again.
 * The drain sees the broker only through the publisher port (publisher.ts), one per connection.
 */
import type { Logger } from 'pino';
import { PRIORITY_RANK, type GatewayEvent } from '../../core/contracts/event.js';
import { ROUTE, type Cursor, type OutboxReader, type OutboxRow } from '../../core/contracts/outbox-store.js';
import { FlightControl, MIN_ROOM, RTT_PROBE_BYTES, type FlightLimits } from './flight-control.js';
import { encodeBatchPayload, type Compression } from '../../core/contracts/wire-payload.js';
import { TokenBucket } from './token-bucket.js';
import { LinkPacer } from './link-pacer.js';
import { MQTT_OVERHEAD, single, type Message } from './message.js';
import { MessageEncoder } from './message-encoder.js';
import { AckedDeletes } from './acked-deletes.js';
import { AlarmWatch } from './alarm-watch.js';
import type { Publisher, PublishOptions } from './publisher.js';
import type { IdleLane } from './idle-lane.js';
import type { Topics } from './topics.js';
import { failure } from '../../core/kernel/errors.js';

export interface DrainOptions {
  outbox: OutboxReader;
  topics: Topics;
  gatewayId: string;
  batch: { maxEvents: number; maxBytes: number };
  replay: { messagesPerSec: number; burst: number };
  /** Airtime bounds (see FlightControl). */
  linkBudget: Omit<FlightLimits, 'window'>;
  /** An alarm unacknowledged this long drops the connection (a link dead without a FIN). */
  alarmAckTimeoutMs: number;
  logger: Logger;
  /** The agent's monotonic clock: PUBACK ages and replay pacing are measured on it. */
  monoMs: () => number;
  /** A publish the broker refused (MQTT 5 reason code), or an alarm's PUBACK overdue: the link is dropped and retried. */
  onRefused: (reason: string) => void;
  /** A critical event was stored while no link was up (the connection retries sooner). */
  onAlarmWaiting?: () => void;
  /** Rows the broker acknowledged (the alarms' deadlines end). */
  onDelivered?: (rows: readonly OutboxRow[]) => void;
  /** Pictures: sent only while no event waits, one message at a time, inside the airtime budget. */
  idle?: IdleLane;
  /** The wire format (absent: json, as before); health: batch puts health in the compact batches. */
  wire?: { format: 'json' | 'compact'; compression: Compression; lingerMs: number; health?: 'topic' | 'batch' };
  /** 5: compact batches also say their content type as an MQTT 5 property. */
  protocolVersion?: 4 | 5;
}

const PAGE = 512;

export class Drain {
  publishedMessages = 0;
  deliveredEvents = 0;
  /** monoMs() of the last PUBACK. */
  lastPubackMs: number | null = null;
  private client: Publisher | null = null;
  private generation = 0;
  /** Outbox positions on the wire, or acknowledged and waiting for their delete to commit. */
  private inflight = new Set<number>();
  private readonly flight: FlightControl;
  private readonly pacer: LinkPacer;
  private readonly alarms: AlarmWatch;
  private buffer: OutboxRow[] = [];
  private cursor: Cursor | null = null;
  private exhausted = false;
  private pumping = false;
  private pacingTimer: NodeJS.Timeout | null = null;
  private readonly deletes: AckedDeletes;
  private readonly bucket: TokenBucket;
  private readonly encoder: MessageEncoder;
  private readonly compact: { compression: Compression; lingerMs: number } | null;
  /** Health rows go alone on the health topic (json, or compact with health: topic). */
  private readonly healthAlone: boolean;
  /**
   * monoMs() when the drain first read a row that came while it was caught up (compact format
   * only), by outbox position: how long it has lingered. Kept across a reader reset or a
   * reconnect, so those do not restart a wait. A row read while catching up on a backlog has no
   * entry and never lingers: it has waited long enough.
   */
  private readonly firstSeen = new Map<number, number>();
  /** The reader has reached the end of the outbox since this connection began. */
  private caughtUp = false;
  /** The highest outbox position ever read: a row above it is new; one below was backlog (a reader reset re-reads it). */
  private maxReadPos = -Infinity;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: DrainOptions) {
    this.bucket = new TokenBucket(opts.replay.messagesPerSec, opts.replay.burst, opts.monoMs);
    this.flight = new FlightControl({ window: 1, ...opts.linkBudget }, opts.monoMs);
    this.pacer = new LinkPacer(this.flight, opts.monoMs, () => this.pump(), opts.replay.messagesPerSec);
    this.encoder = new MessageEncoder(opts);
    this.alarms = new AlarmWatch({
      limitMs: opts.alarmAckTimeoutMs,
      monoMs: opts.monoMs,
      oldestSentMs: () => this.flight.oldestCriticalSentMs(),
      attached: () => this.client !== null,
      onOverdue: (reason) => opts.onRefused(reason),
      logger: opts.logger,
    });
    // Rows stay marked in flight until their delete commits, so a reader reset cannot resend them.
    this.deletes = new AckedDeletes(opts.outbox, (rows) => {
      for (const r of rows) this.inflight.delete(r.pos);
    });
    const w = opts.wire;
    this.compact = w?.format === 'compact' ? { compression: w.compression, lingerMs: w.lingerMs } : null;
    this.healthAlone = !(this.compact && w?.health === 'batch');
    // A dictionary missing or damaged fails the start, not the first batch (see wire-dictionary.ts).
    if (this.compact) encodeBatchPayload(opts.gatewayId, [], this.compact.compression);
    opts.outbox.on('stored', (events) => this.onStored(events));
    opts.idle?.onReady(() => this.pump());
  }

  get inflightCount(): number {
    return this.flight.count;
  }

  /** What health reports of the link: bytes unacknowledged, the budget, and the measured rate and round trip. */
  linkStats(): { inflightBytes: number; budgetBytes: number; rateBytesPerSec: number | null; minRttMs: number | null } {
    const rate = this.flight.rateBytesPerSec();
    const rtt = this.flight.minRttMs();
    return {
      inflightBytes: this.flight.bytes,
      budgetBytes: this.flight.budgetBytes(),
      rateBytesPerSec: rate === null ? null : Math.round(rate),
      minRttMs: rtt === null ? null : Math.round(rtt),
    };
  }

  /** A new connection: forget what was in flight (it is all still in the outbox) and start over. */
  attach(client: Publisher, window: number): void {
    this.flushDeletes();
    this.generation += 1;
    this.client = client;
    this.flight.reset(window);
    this.pacer.reset();
    this.caughtUp = false;
    this.resetReader();
    this.inflight.clear();
    this.opts.idle?.linkChanged(true);
    this.pump();
  }

  detach(): void {
    this.generation += 1;
    this.client = null;
    if (this.pacingTimer) clearTimeout(this.pacingTimer);
    this.pacingTimer = null;
    this.alarms.stop();
    this.pacer.reset();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.opts.idle?.linkChanged(false);
  }

  private resetReader(): void {
    this.buffer = [];
    this.cursor = null;
    this.exhausted = false;
  }

  private onStored(events: GatewayEvent[]): void {
    let urgent = PRIORITY_RANK.low; // a loop, not Math.min(...): one notification may carry 100k+ events
    for (const e of events) urgent = Math.min(urgent, PRIORITY_RANK[e.priority]);
    if (this.cursor && urgent < this.cursor.prio) this.resetReader();
    else if (this.buffer.length > 0 && urgent < this.buffer[0]!.prio) this.resetReader();
    this.exhausted = false;
    if (urgent === 0 && !this.client) this.opts.onAlarmWaiting?.();
    this.pump();
  }

  /** Publishes until the window or the link's budget is full, the pacing says wait, or the outbox is empty. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.client) {
        this.fill();
        const head = this.buffer[0];
        if (!head) return this.idleLink(); // no event waits: the link may carry a picture's chunk
        const critical = head.prio === 0;
        if (!critical && this.pacingTimer) return; // pacing holds telemetry, never an alarm
        // Room for at least a small message? (The message itself is then cut to the room left.)
        if (!this.flight.admits(critical ? 0 : Math.min(head.bytes, MIN_ROOM), critical)) return;
        if (critical) this.bucket.force();
        else if (!this.pacer.ready() || !this.paced()) return; // a timer pumps again
        const msg = this.nextMessage(this.room());
        // Lingering: the telemetry waits for its batch (a timer pumps again), so the link may carry a
        // picture's chunk meanwhile. Without this, a village whose readings never stop lingering
        // (one every few seconds, lingerMs 60 s) never sent a picture at all.
        if (!msg) return this.idleLink();
        this.publish(msg);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The most bytes the next non-critical message may take: its airtime, and what is left of the budget. */
  private room(): number {
    // The round-trip sample: a small message onto the empty link, or its own airtime inflates the sample.
    if (this.flight.count === 0 && this.flight.rttSampleDue()) {
      this.flight.appLimited(); // alone on purpose: its rate is not the link's
      return RTT_PROBE_BYTES;
    }
    const left = this.flight.count === 0 ? Infinity : this.flight.budgetBytes() - this.flight.bytes;
    return Math.min(this.opts.batch.maxBytes, this.flight.messageBytes(), left, this.pacer.quantum());
  }

  private fill(): void {
    const linger = this.compact !== null && this.compact.lingerMs > 0;
    while (this.buffer.length === 0 && !this.exhausted) {
      const stamp = linger && this.caughtUp ? this.opts.monoMs() : null;
      const page = this.opts.outbox.readPage(this.cursor, PAGE);
      if (page.length < PAGE) this.exhausted = this.caughtUp = true;
      if (page.length === 0) return;
      const last = page[page.length - 1]!;
      this.cursor = { prio: last.prio, pos: last.pos };
      for (const row of page) {
        if (this.inflight.has(row.pos)) continue;
        this.buffer.push(row);
        if (stamp !== null && row.pos > this.maxReadPos && !this.firstSeen.has(row.pos))
          this.firstSeen.set(row.pos, stamp);
        if (row.pos > this.maxReadPos) this.maxReadPos = row.pos;
      }
    }
    // Rows that left without being published (shed, aged out) would stay here: a bound, not a leak.
    if (this.firstSeen.size > 10 * (this.opts.batch.maxEvents + PAGE)) this.firstSeen.clear();
  }

  /**
   * The next message, of at most `maxBytes` on the wire unless its first event alone is bigger
   * (a compact batch's size is estimated from the compression its last batches got), or null
   * while its rows linger.
   */
  private nextMessage(maxBytes: number): Message | null {
    this.fill();
    const head = this.buffer.shift();
    if (!head) return null;
    const { topics, batch } = this.opts;
    const rawLimit = Math.min(batch.maxBytes, this.compact ? maxBytes / this.encoder.compressionRatio : maxBytes);
    if (head.route === ROUTE.health && this.healthAlone) return single(topics.health, head);
    if (head.prio === 0) return single(topics.events, head);
    const rows = [head];
    let bytes = this.encoder.batchHead.length + 2 + head.bytes;
    let full = false; // stopped by the batch's limits or a row that cannot join, not by running out of rows
    for (;;) {
      if (this.buffer.length === 0) this.fill();
      const next = this.buffer[0];
      full = rows.length >= batch.maxEvents;
      if (!next) break;
      full ||=
        next.prio === 0 || (next.route === ROUTE.health && this.healthAlone) || bytes + next.bytes + 1 > rawLimit;
      if (full) break;
      rows.push(this.buffer.shift()!);
      bytes += next.bytes + 1;
    }
    if (this.compact) {
      if (!full && head.prio >= PRIORITY_RANK.normal && this.linger(head)) {
        this.buffer.unshift(...rows); // not yet: they wait for more to join them
        return null;
      }
      return this.encoder.compact(rows, this.compact.compression);
    }
    return this.encoder.json(rows);
  }

  /**
   * Whether a batch that is not full should wait: yes while its oldest row has waited less than
   * lingerMs since the drain first read it (then a timer pumps again). Only normal and low rows
   * wait, and only those that came while the drain was caught up (a backlog goes at once); a
   * high row leads a batch at once and takes the waiting rows with it.
   */
  private linger(head: OutboxRow): boolean {
    const { lingerMs } = this.compact!;
    if (lingerMs <= 0) return false;
    const waitMs = lingerMs - (this.opts.monoMs() - (this.firstSeen.get(head.pos) ?? -Infinity));
    if (waitMs <= 0) return false;
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = null;
      this.pump();
    }, waitMs);
    return true;
  }

  private publish(msg: Message): void {
    const client = this.client!;
    const gen = this.generation;
    for (const r of msg.rows) {
      this.inflight.add(r.pos);
      this.firstSeen.delete(r.pos);
      r.body = ''; // on the wire now; holding it until the PUBACK would only feed the old heap
    }
    const critical = msg.rows[0]!.prio === 0;
    const wireBytes = msg.bytes + Buffer.byteLength(msg.topic) + MQTT_OVERHEAD;
    const token = this.flight.sent(wireBytes, critical);
    this.pacer.spent(wireBytes);
    if (critical) this.alarms.arm();
    this.publishedMessages += 1;
    const opts: PublishOptions = msg.properties ? { qos: 1, properties: msg.properties } : { qos: 1 };
    client.publish(msg.topic, msg.payload, opts, (err) => {
      if (gen !== this.generation) return; // an older connection: the rows are re-read anyway
      if (err) {
        this.flight.failed(token);
        for (const r of msg.rows) this.inflight.delete(r.pos);
        // Not acknowledged (refused by the broker, or the link went): keep the rows; they go again.
        this.opts.logger.warn(failure('PUBLISH_FAILED', err, { events: msg.rows.length }), 'publish not acknowledged');
        this.resetReader();
        this.opts.onRefused(err.message);
        return;
      }
      this.flight.acked(token);
      this.lastPubackMs = this.opts.monoMs(); // monotonic: an age, not a time of day
      this.deliveredEvents += msg.rows.length;
      this.opts.onDelivered?.(msg.rows);
      this.deletes.add(msg.rows);
      this.pump();
    });
  }

  /** Takes a pacing token; without one, a timer pumps again once one is due. */
  private paced(): boolean {
    const wait = this.bucket.take();
    if (wait <= 0) return true;
    this.pacingTimer = setTimeout(() => {
      this.pacingTimer = null;
      this.pump();
    }, wait);
    return false;
  }

  /** Nothing more to send for now (the link's rate samples say so), but a picture's chunk may go. */
  private idleLink(): void {
    this.flight.appLimited();
    this.offerIdle();
  }

  /** One message of the idle lane, if it has one ready and the budget and pacing have room (see idle-lane.ts). */
  private offerIdle(): void {
    const client = this.client;
    const msg = this.opts.idle?.peek();
    if (!client || !msg || this.pacingTimer) return;
    const bytes = msg.payload.length + Buffer.byteLength(msg.topic) + MQTT_OVERHEAD;
    if (!this.flight.admits(bytes, false) || !this.pacer.ready() || !this.paced()) return; // a PUBACK or a timer pumps again
    const gen = this.generation;
    const token = this.flight.sent(bytes, false, false);
    this.pacer.spent(bytes);
    this.publishedMessages += 1;
    msg.sent();
    client.publish(msg.topic, msg.payload, { qos: 1 }, (err) => {
      if (gen !== this.generation) return; // an older connection: the lane offers it again
      if (err) this.flight.failed(token);
      else this.flight.acked(token);
      msg.settle(err);
      this.pump();
    });
  }

  /** Deletes the acknowledged rows now rather than with their group (the uplink stops). */
  flushDeletes(): void {
    this.deletes.flush();
  }
}
