/** Turns a producer's input into a full envelope: id, seq, boot, gateway, time. */
import { randomUUID } from 'node:crypto';
import type { Clock } from './contracts/clock.js';
import { eventInputSchema, type EventInput, type GatewayEvent } from './contracts/event.js';
import { GatewayError } from './contracts/driver.js';
import { problemsFromZod, formatProblem } from '../config/zod-problems.js';
import type { SeqCounter } from './seq-counter.js';
import { uuidv7 } from './uuidv7.js';

export class EventFactory {
  readonly bootId = randomUUID();

  constructor(
    private readonly gatewayId: string,
    private readonly seq: SeqCounter,
    private readonly clock: Clock,
  ) {}

  create(input: EventInput): GatewayEvent {
    const parsed = eventInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new GatewayError('EVENT_INVALID', `invalid event: ${problemsFromZod(parsed.error).map(formatProblem).join('; ')}`);
    }
    const now = this.clock.now();
    return {
      id: uuidv7(now),
      seq: this.seq.next(),
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
