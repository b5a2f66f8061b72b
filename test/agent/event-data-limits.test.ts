/**
 * Nothing the agent emits may be unreadable at the county: an event whose data nests deeper or
 * weighs more than the county's decoders take (as a flow's payload or a profile's record might)
 * is refused where it is built, with EVENT_UNSENDABLE, logged and counted, and gets no seq;
 * the largest data that is accepted goes through the county's own decoder, compact and not.
 */
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../core/contracts/event.js';
import { profileEventType } from '../../core/contracts/events/catalogue.js';
import { decodeBatchPayload, encodeBatchPayload } from '../../core/contracts/wire-payload.js';
import { EVENT_DATA_LIMITS } from '../../agent/event-data-limits.js';
import { EventFactory } from '../../agent/event-factory.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { PayloadProblems } from '../../agent/payload-problems.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import { FakeClock } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

function rig() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const clock = new FakeClock();
  const problems = new PayloadProblems(logger, () => clock.monoMs());
  const factory = new EventFactory('gw', SeqCounter.open(join(tempDir(), 'seq.json')), clock, problems);
  return { lines, problems, factory };
}

/** A flow's message as a technician's function node might build it: `depth` objects deep. */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) v = { payload: v };
  return v;
}

const flowEvent = (data: Record<string, unknown>): EventInput => ({
  deviceId: 'flows',
  type: profileEventType('flow.reading'),
  priority: 'normal',
  data,
});

function refusal(f: () => unknown): GatewayError {
  try {
    f();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('not refused');
}

describe('event data the county could not read is refused at emit', () => {
  it('a flow payload nested 1,000 deep, and one of 1 MB: EVENT_UNSENDABLE, logged, counted, no seq spent', () => {
    const { lines, problems, factory } = rig();
    const first = factory.nextSeq;
    const deep = refusal(() => factory.create(flowEvent(nested(1000))));
    expect(deep).toBeInstanceOf(GatewayError);
    expect(deep.code).toBe('EVENT_UNSENDABLE');
    expect(deep.message).toContain(`deeper than ${EVENT_DATA_LIMITS.maxDepth} levels`);
    const big = refusal(() => factory.create(flowEvent({ payload: 'x'.repeat(1024 * 1024) })));
    expect(big.code).toBe('EVENT_UNSENDABLE');
    expect(big.message).toMatch(/data of \d+ bytes is over 262144/);
    // A cycle (a flow's msg can hold one) is refused too, not a stack overflow.
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(refusal(() => factory.create(flowEvent(cyclic))).code).toBe('EVENT_UNSENDABLE');
    expect(problems.refusedCount).toBe(3);
    expect(problems.count).toBe(3);
    expect(factory.nextSeq).toBe(first);
    const logged = lines.filter((l) => l['msg'] === 'event refused: the county could not read its data');
    // Once a minute per type: the first is logged, with its code and reason.
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ type: 'flow.reading', code: 'EVENT_UNSENDABLE', deviceId: 'flows' });
    // The factory still makes events after that.
    expect(factory.create(flowEvent({ v: 1 })).seq).toBe(first);
  });

  it('the deepest and the largest data accepted are read by the county, compact and not', () => {
    const { factory } = rig();
    const deepest = factory.create(flowEvent(nested(EVENT_DATA_LIMITS.maxDepth)));
    expect(refusal(() => factory.create(flowEvent(nested(EVENT_DATA_LIMITS.maxDepth + 1)))).code).toBe(
      'EVENT_UNSENDABLE',
    );
    // Quotes escape to 2 bytes on the wire, so the largest is made of them.
    const filler = '"'.repeat(EVENT_DATA_LIMITS.maxBytes / 2 - 20);
    const largest = factory.create(flowEvent({ payload: filler }));
    for (const event of [deepest, largest])
      for (const compression of ['none', 'deflate', 'brotli'] as const) {
        const payload = encodeBatchPayload('gw', [JSON.stringify(event)], compression);
        expect(decodeBatchPayload(payload)).toEqual([event]);
      }
  });
});
