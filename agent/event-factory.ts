/** Turns a producer's input into a full envelope: id, seq, boot, gateway, time. */
import { randomUUID } from 'node:crypto';
import type { Clock } from './kernel/clock.js';
import { eventInputSchema, type EventInput, type GatewayEvent } from './contracts/event.js';
import { GatewayError } from './kernel/errors.js';
import { problemsFromZod, formatProblem } from '../config/zod-problems.js';
import type { SeqCounter } from './seq-counter.js';
import { uuidv7 } from './kernel/uuidv7.js';

export class EventFactory {
  readonly bootId = randomUUID();
  /** The seq of this boot's first event: the county checks each boot's seqs from here on, without gaps. */
  firstSeq: number | null = null;

  constructor(
    private readonly gatewayId: string,
    private readonly seq: SeqCounter,
    private readonly clock: Clock,
  ) {}

  /** The seq the next event will get. */
  get nextSeq(): number {
    return this.seq.last + 1;
  }

  create(input: EventInput): GatewayEvent {
    const parsed = eventInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new GatewayError('EVENT_INVALID', `invalid event: ${problemsFromZod(parsed.error).map(formatProblem).join('; ')}`);
    }
    const now = this.clock.now();
    const seq = this.seq.next();
    this.firstSeq ??= seq;
    return {
      id: uuidv7(now),
      seq,
      bootId: this.bootId,
      gatewayId: this.gatewayId,
      deviceId: parsed.data.deviceId,
      type: parsed.data.type,
      priority: parsed.data.priority,
      ts: new Date(now).toISOString(),
      monoMs: this.clock.monoMs(),
      clockSynced: this.clock.synced(),
      data: parsed.data.data,
    };
  }
}
