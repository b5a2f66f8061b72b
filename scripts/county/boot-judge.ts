/**
 * The parts of the delivery verdict that judge boots (delivery-checker.ts): where a boot
 * begins and which of its seqs are missing, boots of a gateway that overlap, and the small
 * helpers the verdict's words share.
 */
import type { CheckedEvent } from './checked-event.js';

export interface BootReport {
  gatewayId: string;
  bootId: string;
  firstSeq: number;
  /** False when `gateway.started` (which says where the boot begins) was not received. */
  anchored: boolean;
  lastSeq: number;
  received: number;
  /** How many seqs between firstSeq and lastSeq never arrived. */
  missingCount: number;
  /** Those seqs, the first MAX_MISSING_LISTED of them (a stray huge seq must not make a list of billions). */
  missing: number[];
}

/** A boot as received: its seqs and, once `gateway.started` arrived, where it begins. */
export interface Boot {
  gatewayId: string;
  bootId: string;
  seqs: Set<number>;
  firstSeq: number | null;
  minSeq: number;
  maxSeq: number;
}

export const MAX_LISTED = 20;
export const MAX_MISSING_LISTED = 10_000;

/** One boot's report: where it begins (its `gateway.started`, else the lowest seq) and the seqs missing since. */
export function judgeBoot(b: Boot, joinedLate: boolean, problems: string[]): BootReport {
  if (b.firstSeq === null && !joinedLate) {
    problems.push(
      `boot ${b.bootId} of ${b.gatewayId}: its gateway.started never arrived, so where it begins is unknown (judged from seq ${b.minSeq})`,
    );
  }
  const first = b.firstSeq ?? b.minSeq;
  if (b.minSeq < first)
    problems.push(`boot ${b.bootId} of ${b.gatewayId}: seq ${b.minSeq} is below its announced first seq ${first}`);
  // Walk the gaps between received seqs (not every number in the range: seqs come from the wire).
  const missing: number[] = [];
  let missingCount = 0;
  let expected = first;
  for (const s of [...b.seqs].filter((x) => x >= first).sort((x, y) => x - y)) {
    missingCount += s - expected;
    for (let m = expected; m < s && missing.length < MAX_MISSING_LISTED; m++) missing.push(m);
    expected = s + 1;
  }
  return {
    gatewayId: b.gatewayId,
    bootId: b.bootId,
    firstSeq: first,
    anchored: b.firstSeq !== null,
    lastSeq: b.maxSeq,
    received: b.seqs.size,
    missingCount,
    missing,
  };
}

export function isEnvelope(raw: unknown): raw is CheckedEvent {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const ev = raw as Record<string, unknown>;
  return (
    typeof ev.id === 'string' &&
    Number.isSafeInteger(ev.seq) &&
    (ev.seq as number) >= 1 &&
    typeof ev.gatewayId === 'string' &&
    typeof ev.bootId === 'string' &&
    typeof ev.type === 'string'
  );
}

/** Boots of one gateway must occupy disjoint seq ranges (seq strictly increases across restarts). */
export function overlaps(boots: BootReport[]): string[] {
  const out: string[] = [];
  const byGateway = new Map<string, BootReport[]>();
  for (const b of boots) byGateway.set(b.gatewayId, [...(byGateway.get(b.gatewayId) ?? []), b]);
  for (const [gw, list] of byGateway) {
    list.sort((a, b) => a.firstSeq - b.firstSeq);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      if (cur.firstSeq <= prev.lastSeq)
        out.push(
          `${gw}: boots ${prev.bootId.slice(0, 8)} (seq ${prev.firstSeq}..${prev.lastSeq}) and ${cur.bootId.slice(0, 8)} (seq ${cur.firstSeq}..${cur.lastSeq}) overlap: seq went back across a restart`,
        );
    }
  }
  return out;
}

export function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}

export function listSeqs(seqs: number[], count = seqs.length): string {
  const shown = seqs.slice(0, MAX_LISTED).join(', ');
  return count > MAX_LISTED ? `${shown}, ... (${count})` : shown;
}

/** JSON with sorted keys, so the same event compares equal however it was serialized. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}
