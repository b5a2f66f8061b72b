/**
 * Moves events from the outbox to the broker.
 *
 * Reads the outbox in replay order (priority, then commit order) a page at a time, so memory stays
 * flat however long the backlog. Critical events always go alone and first; when a backlog
 * exists the rest go as batches bounded by count and bytes. At most `window` messages are
 * unacknowledged at once; a row is deleted only after its PUBACK. A new event more urgent
 * than where the reader stands makes it start again from the top, so an alarm never
 * queues behind telemetry. On a new connection everything not acknowledged is read again
 * and re-sent with the same event ids.
 */
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { PRIORITY_RANK, type GatewayEvent } from '../contracts/event.js';
import { ROUTE, type Cursor, type OutboxReader, type OutboxRow } from '../contracts/outbox-store.js';
import { batchContentType, encodeBatchPayload, type Compression } from '../contracts/wire-payload.js';
import { TokenBucket } from './token-bucket.js';
import type { Topics } from './topics.js';

export interface DrainOptions {
  outbox: OutboxReader;
  topics: Topics;
  gatewayId: string;
  batch: { maxEvents: number; maxBytes: number };
  replay: { messagesPerSec: number; burst: number };
  logger: Logger;
  /** The agent's monotonic clock: PUBACK ages and replay pacing are measured on it. */
  monoMs: () => number;
  /** A publish the broker refused (MQTT 5 reason code): the link is dropped and retried later. */
  onRefused: (reason: string) => void;
  /** The wire format (absent: json, as before). */
  wire?: { format: 'json' | 'compact'; compression: Compression; lingerMs: number };
  /** 5: compact batches also say their content type as an MQTT 5 property. */
  protocolVersion?: 4 | 5;
}

const PAGE = 512;
const DELETE_RETRY_MS = 1000;

interface Message {
  topic: string;
  payload: string | Buffer;
  /** Payload bytes (what the message costs on the wire, before MQTT's framing). */
  bytes: number;
  rows: OutboxRow[];
  properties?: IClientPublishOptions['properties'];
}

const single = (topic: string, row: OutboxRow): Message => ({
  topic,
  payload: row.body,
  bytes: row.bytes,
  rows: [row],
});

export class Drain {
  publishedMessages = 0;
  deliveredEvents = 0;
  /** monoMs() of the last PUBACK. */
  lastPubackMs: number | null = null;
  private client: MqttClient | null = null;
  private generation = 0;
  /** Outbox positions on the wire, or acknowledged and waiting for their delete to commit. */
  private inflight = new Set<number>();
  private inflightMessages = 0;
  private window = 1;
  private buffer: OutboxRow[] = [];
  private cursor: Cursor | null = null;
  private exhausted = false;
  private pumping = false;
  private pacingTimer: NodeJS.Timeout | null = null;
  private acked: OutboxRow[] = [];
  private deleteTimer: NodeJS.Timeout | null = null;
  private readonly bucket: TokenBucket;
  private readonly batchHead: string;
  private readonly compact: { compression: Compression; lingerMs: number } | null;
  /** monoMs() when the drain first read a row: how long it has lingered (compact format only). */
  private readonly seenAt = new WeakMap<OutboxRow, number>();
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: DrainOptions) {
    this.bucket = new TokenBucket(opts.replay.messagesPerSec, opts.replay.burst, opts.monoMs);
    this.batchHead = `{"v":1,"gatewayId":${JSON.stringify(opts.gatewayId)},"events":[`;
    const w = opts.wire;
    this.compact = w?.format === 'compact' ? { compression: w.compression, lingerMs: w.lingerMs } : null;
    opts.outbox.on('stored', (events) => this.onStored(events));
  }

  get inflightCount(): number {
    return this.inflightMessages;
  }

  /** A new connection: forget what was in flight (it is all still in the outbox) and start over. */
  attach(client: MqttClient, window: number): void {
    this.flushDeletes();
    this.generation += 1;
    this.client = client;
    this.window = window;
    this.resetReader();
    this.inflight.clear();
    this.inflightMessages = 0;
    this.pump();
  }

  detach(): void {
    this.generation += 1;
    this.client = null;
    if (this.pacingTimer) clearTimeout(this.pacingTimer);
    this.pacingTimer = null;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
  }

  private resetReader(): void {
    this.buffer = [];
    this.cursor = null;
    this.exhausted = false;
  }

  private onStored(events: GatewayEvent[]): void {
    const urgent = Math.min(...events.map((e) => PRIORITY_RANK[e.priority]));
    if (this.cursor && urgent < this.cursor.prio) this.resetReader();
    else if (this.buffer.length > 0 && urgent < this.buffer[0]!.prio) this.resetReader();
    this.exhausted = false;
    this.pump();
  }

  /** Publishes until the window is full, the pacing says wait, or the outbox is empty. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.client && this.inflightMessages < this.window && !this.pacingTimer) {
        const msg = this.nextMessage();
        if (!msg) return;
        const critical = msg.rows[0]!.prio === 0;
        if (critical) this.bucket.force();
        else {
          const wait = this.bucket.take();
          if (wait > 0) {
            this.buffer.unshift(...msg.rows); // put back, in order
            this.pacingTimer = setTimeout(() => {
              this.pacingTimer = null;
              this.pump();
            }, wait);
            return;
          }
        }
        this.publish(msg);
      }
    } finally {
      this.pumping = false;
    }
  }

  private fill(): void {
    while (this.buffer.length === 0 && !this.exhausted) {
      const page = this.opts.outbox.readPage(this.cursor, PAGE);
      if (page.length < PAGE) this.exhausted = true;
      if (page.length === 0) return;
      const last = page[page.length - 1]!;
      this.cursor = { prio: last.prio, pos: last.pos };
      const now = this.compact && this.compact.lingerMs > 0 ? this.opts.monoMs() : null;
      for (const row of page)
        if (!this.inflight.has(row.pos)) {
          this.buffer.push(row);
          if (now !== null) this.seenAt.set(row, now);
        }
    }
  }

  private nextMessage(): Message | null {
    this.fill();
    const head = this.buffer.shift();
    if (!head) return null;
    const { topics, batch } = this.opts;
    if (head.route === ROUTE.health) return single(topics.health, head);
    if (head.prio === 0) return single(topics.events, head);
    const rows = [head];
    let bytes = this.batchHead.length + 2 + head.bytes;
    let full = false; // stopped by the batch's limits or a row that cannot join, not by running out of rows
    for (;;) {
      if (this.buffer.length === 0) this.fill();
      const next = this.buffer[0];
      full = rows.length >= batch.maxEvents;
      if (!next) break;
      full ||= next.prio === 0 || next.route === ROUTE.health || bytes + next.bytes + 1 > batch.maxBytes;
      if (full) break;
      rows.push(this.buffer.shift()!);
      bytes += next.bytes + 1;
    }
    if (this.compact) {
      if (!full && head.prio >= PRIORITY_RANK.normal && this.linger(head)) {
        this.buffer.unshift(...rows); // not yet: they wait for more to join them
        return null;
      }
      return this.compactMessage(rows);
    }
    return this.jsonMessage(rows);
  }

  /** Today's form: one envelope alone, or a v1 JSON batch, on `<prefix>/events`. */
  private jsonMessage(rows: OutboxRow[]): Message {
    const { topics } = this.opts;
    if (rows.length === 1) return single(topics.events, rows[0]!);
    const payload = `${this.batchHead}${rows.map((r) => r.body).join(',')}]}`;
    return { topic: topics.events, payload, bytes: Buffer.byteLength(payload), rows };
  }

  /**
   * Whether a batch that is not full should wait: yes while its oldest row has waited less than
   * lingerMs since the drain read it (then a timer pumps again). Only normal and low rows wait;
   * a high row leads a batch at once and takes the waiting rows with it.
   */
  private linger(head: OutboxRow): boolean {
    const { lingerMs } = this.compact!;
    if (lingerMs <= 0) return false;
    const waitMs = lingerMs - (this.opts.monoMs() - (this.seenAt.get(head) ?? -Infinity));
    if (waitMs <= 0) return false;
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = null;
      this.pump();
    }, waitMs);
    return true;
  }

  /** A compact (v2) batch on the batch topic: header byte + compressed JSON; one event alone goes so too. */
  private compactMessage(rows: OutboxRow[]): Message {
    const { compression } = this.compact!;
    let payload: Buffer;
    try {
      payload = encodeBatchPayload(
        this.opts.gatewayId,
        rows.map((r) => r.body),
        compression,
      );
    } catch (err) {
      // A stored body that is not a JSON object (a damaged row) cannot be compacted: the rows go as
      // they are, in today's JSON form, rather than stop the drain.
      this.opts.logger.warn({ err: (err as Error).message, events: rows.length }, 'batch not compacted; sent as JSON');
      return this.jsonMessage(rows);
    }
    return {
      topic: this.opts.topics.eventsBatch,
      payload,
      bytes: payload.length,
      rows,
      ...(this.opts.protocolVersion === 5 ? { properties: { contentType: batchContentType(compression) } } : {}),
    };
  }

  private publish(msg: Message): void {
    const client = this.client!;
    const gen = this.generation;
    for (const r of msg.rows) {
      this.inflight.add(r.pos);
      r.body = ''; // on the wire now; holding it until the PUBACK would only feed the old heap
    }
    this.inflightMessages += 1;
    this.publishedMessages += 1;
    const opts: IClientPublishOptions = msg.properties ? { qos: 1, properties: msg.properties } : { qos: 1 };
    client.publish(msg.topic, msg.payload, opts, (err) => {
      if (gen !== this.generation) return; // an older connection: the rows are re-read anyway
      this.inflightMessages -= 1;
      if (err) {
        for (const r of msg.rows) this.inflight.delete(r.pos);
        // Not acknowledged (refused by the broker, or the link went): keep the rows; they go again.
        this.opts.logger.warn({ err: err.message, events: msg.rows.length }, 'publish not acknowledged');
        this.resetReader();
        this.opts.onRefused(err.message);
        return;
      }
      this.lastPubackMs = this.opts.monoMs(); // monotonic: an age, not a time of day
      this.deliveredEvents += msg.rows.length;
      // Rows stay marked in flight until their delete commits, so a reader reset cannot resend them.
      for (const r of msg.rows) this.acked.push(r);
      this.scheduleDelete();
      this.pump();
    });
  }

  /**
   * Deletes acknowledged rows in groups (at most 25 ms or 2,000 rows old): one commit per
   * group instead of one per PUBACK. A crash in between only re-sends events the county
   * already has, with the same ids.
   */
  private scheduleDelete(): void {
    if (this.acked.length >= 2000) return this.flushDeletes();
    this.deleteTimer ??= setTimeout(() => this.flushDeletes(), 25);
  }

  flushDeletes(): void {
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    this.deleteTimer = null;
    const rows = this.acked;
    if (rows.length === 0) return;
    this.acked = [];
    if (this.opts.outbox.delete(rows) === null) {
      // The store could not write (reported by the outbox): keep them acknowledged and in flight, try again.
      this.acked = rows.concat(this.acked);
      this.deleteTimer = setTimeout(() => this.flushDeletes(), DELETE_RETRY_MS);
      return;
    }
    for (const r of rows) this.inflight.delete(r.pos);
  }
}
