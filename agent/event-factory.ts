/**
 * Turns a producer's input into a full envelope: id, seq, boot, gateway, time. A catalogued
 * type's payload is checked against the catalogue: tsc checks what our code emits, and this
 * catches what it cannot see (a spread of a wider object, a profile mapping a decoded record
 * to `alarm.pressed`, a cast). Zod compiles an object schema, so a payload check costs
 * ~0.1-0.3 µs; an open record (telemetry readings) ~0.7 µs. The envelope no longer copies
 * `data` through z.record (~0.6 µs) to pay for it.
 *
 * A payload that does not match is refused (PAYLOAD_INVALID), counted and logged once a minute
 * per type, as the bus and catalogue promise their listeners a typed payload; except an
 * alarm-class event (outbox/alarm-class.ts): a radio button's record with one odd field must
 * still sound the siren and reach the county, so it is kept, counted, and carries
 * `payloadInvalid: true` to the county. An envelope that cannot be built (no device id, a
 * malformed type) is refused (EVENT_INVALID), and data the county could not read
 * (event-data-limits.ts: too deep, too big): EVENT_UNSENDABLE, reported and counted.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/kernel/clock.js';
import { eventInputSchema, type EventInput, type GatewayEvent } from '../core/contracts/event.js';
import { eventSpec } from '../core/contracts/events/catalogue.js';
import { eventDataProblem } from './event-data-limits.js';
import { GatewayError } from '../core/kernel/errors.js';
import { isAlarmClass } from './outbox/alarm-class.js';
import { problemsFromZod, formatProblem } from '../config/zod-problems.js';
import type { SeqCounter } from './seq-counter.js';
import { uuidv7 } from '../core/kernel/uuidv7.js';

export interface PayloadReports {
  /** A payload that does not match its catalogue entry: `kept` for an alarm-class event (flagged), else refused. */
  invalid(type: string, deviceId: string, problems: string[], kept: boolean): void;
  /** Data the county could not read: refused. */
  refused(type: string, deviceId: string, reason: string): void;
}

export class EventFactory {
  readonly bootId = randomUUID();
  /** The seq of this boot's first event: the county checks each boot's seqs from here on, without gaps. */
  firstSeq: number | null = null;

  constructor(
    private readonly gatewayId: string,
    private readonly seq: SeqCounter,
    private readonly clock: Clock,
    /** Told about each event whose payload does not match its catalogue entry, or cannot be sent. */
    private readonly problems: PayloadReports = { invalid: () => {}, refused: () => {} },
  ) {}

  /** The seq the next event will get. */
  get nextSeq(): number {
    return this.seq.last + 1;
  }

  create(input: EventInput): GatewayEvent {
    const parsed = eventInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new GatewayError(
        'EVENT_INVALID',
        `invalid event: ${problemsFromZod(parsed.error).map(formatProblem).join('; ')}`,
      );
    }
    // A copy, as the envelope's parse used to make: the producer's object is not the event's.
    const data = { ...parsed.data.data };
    const unsendable = eventDataProblem(data);
    if (unsendable) {
      this.problems.refused(parsed.data.type, parsed.data.deviceId, unsendable);
      throw new GatewayError('EVENT_UNSENDABLE', `${parsed.data.type} from ${parsed.data.deviceId}: ${unsendable}`);
    }
    const payload = eventSpec(parsed.data.type)?.data.safeParse(data);
    const invalid = payload?.success === false;
    if (invalid) {
      const { type, deviceId, priority } = parsed.data;
      const problems = problemsFromZod(payload.error).map((p) =>
        formatProblem({ path: p.path ? `data.${p.path}` : 'data', message: p.message }),
      );
      const kept = isAlarmClass({ type, priority, data });
      this.problems.invalid(type, deviceId, problems, kept);
      if (!kept) throw new GatewayError('PAYLOAD_INVALID', `${type} from ${deviceId}: ${problems.join('; ')}`);
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
      data,
      ...(invalid ? { payloadInvalid: true as const } : {}),
    };
  }
}
