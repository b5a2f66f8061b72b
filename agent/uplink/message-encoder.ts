/**
 * The two forms a batch of outbox rows goes out in: today's JSON (one envelope alone, or a v1
 * batch on `<prefix>/events`) and the compact one (header byte + compressed JSON on the batch
 * topic), with what the compact batches lately saved, so the drain can size a batch to its
 * airtime before it is built.
 */
import type { Logger } from 'pino';
import type { OutboxRow } from '../../core/contracts/outbox-store.js';
import { batchContentType, encodeBatchPayload, type Compression } from '../../core/contracts/wire-payload.js';
import { failure } from '../../core/kernel/errors.js';
import { single, type Message } from './message.js';
import type { Topics } from './topics.js';

export interface MessageEncoderOptions {
  topics: Topics;
  gatewayId: string;
  logger: Logger;
  /** 5: compact batches also say their content type as an MQTT 5 property. */
  protocolVersion?: 4 | 5;
}

export class MessageEncoder {
  /** A v1 JSON batch up to its first event. */
  readonly batchHead: string;
  /** Compressed / raw bytes of the recent compact batches (a moving average). */
  compressionRatio = 0.3;

  constructor(private readonly opts: MessageEncoderOptions) {
    this.batchHead = `{"v":1,"gatewayId":${JSON.stringify(opts.gatewayId)},"events":[`;
  }

  /** Today's form: one envelope alone, or a v1 JSON batch, on `<prefix>/events`. */
  json(rows: OutboxRow[]): Message {
    const { topics } = this.opts;
    if (rows.length === 1) return single(topics.events, rows[0]!);
    const payload = `${this.batchHead}${rows.map((r) => r.body).join(',')}]}`;
    return { topic: topics.events, payload, bytes: Buffer.byteLength(payload), rows };
  }

  /** A compact (v2) batch on the batch topic: header byte + compressed JSON; one event alone goes so too. */
  compact(rows: OutboxRow[], compression: Compression): Message {
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
      this.opts.logger.warn(
        failure('EVENT_INVALID', err, { events: rows.length }),
        'batch not compacted; sent as JSON',
      );
      return this.json(rows);
    }
    const raw = rows.reduce((n, r) => n + r.bytes, 0);
    this.compressionRatio = 0.8 * this.compressionRatio + 0.2 * Math.min(1, payload.length / Math.max(1, raw));
    return {
      topic: this.opts.topics.eventsBatch,
      payload,
      bytes: payload.length,
      rows,
      ...(this.opts.protocolVersion === 5 ? { properties: { contentType: batchContentType(compression) } } : {}),
    };
  }
}
