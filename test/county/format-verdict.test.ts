/** The verdict in one line (the demo's `check` line): ok, ok through shedding, and failed. */
import { describe, expect, it } from 'vitest';
import { DeliveryChecker } from '../../scripts/county/delivery-checker.js';
import { verdictLine } from '../../scripts/county/format-verdict.js';

const BOOT = 'dddddddd-0000-4000-8000-000000000004';
const ev = (seq: number, type = 'sensor.telemetry', data: Record<string, unknown> = {}, priority = 'low') => ({
  id: `e-${seq}`,
  seq,
  bootId: BOOT,
  gatewayId: 'gw',
  type,
  priority,
  data,
});
const started = ev(1, 'gateway.started', { firstSeq: 1, shed: {} }, 'high');

function judge(events: ReturnType<typeof ev>[], committed: ReturnType<typeof ev>[] = events) {
  const c = new DeliveryChecker();
  for (const e of events) c.receive(e);
  for (const e of committed) c.committed(e.id, e.seq, { gatewayId: e.gatewayId, priority: e.priority });
  return verdictLine(c.verdict());
}

describe('verdictLine', () => {
  it('ok: boots, ranges, committed and undelivered, duplicates', () => {
    const events = [started, ev(2), ev(3)];
    expect(judge([...events, ev(3)], events)).toBe(
      'ok: 1 boot, seqs contiguous (1..3), 3 committed, 0 undelivered, 1 duplicate (identical)',
    );
  });

  it('ok through shedding: says how many were lost and that shedding accounts for them', () => {
    const all = [started, ev(2), ev(3), ev(4), ev(5, 'gateway.events_shed', { totals: { low: 2 } }, 'high')];
    const arrived = all.filter((e) => e.seq !== 2 && e.seq !== 3);
    expect(judge(arrived, all)).toBe(
      'ok: 1 boot, seqs 1..5, 2 lost, all accounted for by shedding, 5 committed, 2 undelivered (shed), 0 duplicates (identical)',
    );
  });

  it('failed: every problem', () => {
    expect(judge([started, ev(3)], [])).toBe(
      'FAILED: 1 problem: gw: 1 events lost, only 0 accounted for by shedding (boot dddddddd missing 2)',
    );
  });
});
