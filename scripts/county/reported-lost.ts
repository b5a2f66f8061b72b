/**
 * What gateways say they lost: the seqs named in `gateway.events_lost` (alarm-class events a
 * full disk could not keep). The delivery checker counts each as a failure whatever the shed
 * counters say; this keeps those reports apart from the checker's own accounting of ids and seqs.
 */
import type { CheckedEvent } from './checked-event.js';

/** Bad ranges named one by one per report; the rest are counted in one line. */
const MAX_BAD_LINES = 5;

export class ReportedLost {
  /** gatewayId -> seqs named (at most `maxSeqs` each) and the types reported with them. */
  private readonly byGateway = new Map<string, { seqs: Set<number>; types: Map<string, number> }>();

  constructor(private readonly maxSeqs: number) {}

  /** One `gateway.events_lost` event; what is wrong in it is returned as conflicts. */
  note(ev: CheckedEvent): string[] {
    const conflicts: string[] = [];
    let per = this.byGateway.get(ev.gatewayId);
    if (!per) this.byGateway.set(ev.gatewayId, (per = { seqs: new Set(), types: new Map() }));
    const ranges = ev.data?.seqs;
    if (!Array.isArray(ranges)) return [`gateway.events_lost ${ev.id} has no data.seqs`];
    // The work per report is bounded, not only the seqs kept: a stranger's report of 1.7 million
    // copies of [1, 9999] would otherwise walk 10^10 seqs that are already in the set.
    let budget = this.maxSeqs;
    let bad = 0;
    for (const r of ranges as unknown[]) {
      if (budget <= 0) {
        conflicts.push(`gateway.events_lost ${ev.id} names more than ${this.maxSeqs} seqs: the rest is not counted`);
        break;
      }
      const [a, b] = Array.isArray(r) ? (r as unknown[]) : [];
      if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || (a as number) > (b as number)) {
        if (++bad <= MAX_BAD_LINES) conflicts.push(`gateway.events_lost ${ev.id}: bad seq range ${JSON.stringify(r)}`);
        continue;
      }
      const end = Math.min(b as number, (a as number) + budget - 1);
      for (let s = a as number; s <= end && per.seqs.size < this.maxSeqs; s++) per.seqs.add(s);
      budget -= end - (a as number) + 1;
    }
    if (bad > MAX_BAD_LINES) conflicts.push(`gateway.events_lost ${ev.id}: ${bad - MAX_BAD_LINES} more bad seq ranges`);
    const types = ev.data?.types;
    if (types && typeof types === 'object')
      for (const [t, n] of Object.entries(types as Record<string, unknown>))
        if (typeof n === 'number' && Number.isFinite(n)) per.types.set(t, (per.types.get(t) ?? 0) + n);
    return conflicts;
  }

  /** One problem line a gateway that reported losses, its seqs listed by `list`. */
  problems(list: (seqs: number[]) => string): string[] {
    const lines: string[] = [];
    for (const [gw, r] of this.byGateway) {
      if (r.seqs.size === 0) continue;
      const types = [...r.types].map(([t, n]) => `${n} ${t}`).join(', ');
      lines.push(
        `${gw}: ${r.seqs.size} alarm events lost, reported by the gateway (gateway.events_lost: ${types}): seqs ${list(this.seqsOf(r))}`,
      );
    }
    return lines;
  }

  /** gatewayId -> the seqs it reported lost, in order (the verdict's `reportedLost`). */
  verdict(): Record<string, number[]> {
    return Object.fromEntries([...this.byGateway].map(([gw, r]) => [gw, this.seqsOf(r)]));
  }

  private seqsOf(r: { seqs: Set<number> }): number[] {
    return [...r.seqs].sort((a, b) => a - b);
  }
}
