/** When the uplink stops growing into the link: rounds without growth, or a queue every message finds. */
import { describe, expect, it } from 'vitest';
import { PipePhase } from '../../agent/uplink/pipe-phase.js';

const RTT = 900;
const RATE = 12_500;

/** PUBACKs of messages each `delays` ms queued (one a round, so only the delay signal can end growth). */
function acks(phase: PipePhase, delays: number[], spanRate: number | null = RATE): boolean[] {
  let delivered = 0;
  return delays.map((delayMs) => {
    const at = delivered;
    delivered += 1000;
    return phase.acked(at, delivered, RATE, spanRate, { delayMs, rttMs: RTT });
  });
}

describe('PipePhase', () => {
  it('four messages in a row behind a standing queue (0.3 of a round trip or more) end the growth at once', () => {
    const phase = new PipePhase();
    expect(acks(phase, [300, 400, 500])).toEqual([false, false, false]);
    expect(phase.full).toBe(false);
    expect(acks(phase, [450])).toEqual([true]);
    expect(phase.full).toBe(true);
    expect(phase.filledOnce).toBe(true);
  });

  it('a passing burst or PUBACKs let go together are no standing queue: one short wait in four restarts the count', () => {
    const phase = new PipePhase();
    // PUBACKs held and let go every 300 ms: the messages of one bunch waited 300, 220, 140, 60 ms.
    const bunched = Array.from({ length: 40 }, (_, i) => [300, 220, 140, 60][i % 4]!);
    expect(acks(phase, bunched).some(Boolean)).toBe(false);
    expect(acks(phase, [400, 400, 400, 100, 400, 400, 400]).some(Boolean)).toBe(false);
    expect(phase.full).toBe(false);
  });

  it('a queue seen before an idle spell does not count towards the growth after it', () => {
    const phase = new PipePhase();
    acks(phase, [400, 400, 400]);
    phase.idle();
    expect(acks(phase, [400])).toEqual([false]);
    expect(acks(phase, [400, 400, 400])).toEqual([false, false, true]);
  });

  it('not before a span rate is known: the full pipe is sized from it', () => {
    const phase = new PipePhase();
    expect(acks(phase, [400, 400, 400, 400, 400], null).some(Boolean)).toBe(false);
    expect(acks(phase, [400])).toEqual([true]);
  });

  it('messages that went onto an empty link or without a known round trip say nothing', () => {
    const phase = new PipePhase();
    let delivered = 0;
    for (let i = 0; i < 10; i++) {
      const at = delivered;
      delivered += 1000;
      phase.acked(at, delivered, RATE, RATE, null);
    }
    expect(phase.full).toBe(false);
  });
});
