/**
 * The end-to-end delivery verdict, as the county can judge it (and, in tests, the gateway
 * side too). Feed it every event as it arrives, duplicates included; optionally tell it
 * what the gateway committed. It checks:
 *  - per (gatewayId, bootId): seqs contiguous from the boot's first seq (announced by
 *    `gateway.started` as `data.firstSeq`) up to the highest received; a gap is a failure
 *    unless the gateway's shed counters (cumulative, from `gateway.events_shed` and
 *    `gateway.started`) account for it;
 *  - every committed id arrived;
 *  - duplicates (same id) are identical.
 * Seq is gateway-wide and strictly increasing across boots (a crash skips the unused rest of
 * a reserved block), so each boot is judged on its own range.
 * Pure: no I/O, so tests, the demo and the county CLI share it.
 */

export interface CheckedEvent {
  id: string;
  seq: number;
  gatewayId: string;
  bootId: string;
  type: string;
  data?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface BootReport {
  gatewayId: string;
  bootId: string;
  firstSeq: number;
  /** False when `gateway.started` (which says where the boot begins) was not received. */
  anchored: boolean;
  lastSeq: number;
  received: number;
  missing: number[];
}

export interface Verdict {
  ok: boolean;
  problems: string[];
  distinct: number;
  duplicates: number;
  malformed: number;
  boots: BootReport[];
  /** Committed ids (told by the gateway side) that never arrived. */
  undelivered: string[];
  /** Cumulative shed count per gateway, as reported by the gateway. */
  shed: Record<string, number>;
}

interface Boot {
  gatewayId: string;
  bootId: string;
  seqs: Set<number>;
  firstSeq: number | null;
  minSeq: number;
  maxSeq: number;
}

const MAX_LISTED = 20;

export class DeliveryChecker {
  private readonly byId = new Map<string, { event: CheckedEvent; canonical: string }>();
  private readonly boots = new Map<string, Boot>();
  private readonly committedIds = new Map<string, number>();
  private readonly shedTotals = new Map<string, number>();
  private readonly conflicts: string[] = [];
  duplicates = 0;
  malformed = 0;

  /** One arrival (a parsed event object). Returns false for a duplicate or a malformed one. */
  receive(raw: unknown): boolean {
    const ev = raw as CheckedEvent;
    if (!ev || typeof ev !== 'object' || typeof ev.id !== 'string' || !Number.isSafeInteger(ev.seq) || typeof ev.gatewayId !== 'string' || typeof ev.bootId !== 'string') {
      this.malformed += 1;
      return false;
    }
    const canonical = canonicalJson(ev);
    const seen = this.byId.get(ev.id);
    if (seen) {
      this.duplicates += 1;
      if (seen.canonical !== canonical) this.conflicts.push(`id ${ev.id} arrived twice with different contents`);
      return false;
    }
    this.byId.set(ev.id, { event: ev, canonical });
    const key = `${ev.gatewayId}/${ev.bootId}`;
    let boot = this.boots.get(key);
    if (!boot) {
      boot = { gatewayId: ev.gatewayId, bootId: ev.bootId, seqs: new Set(), firstSeq: null, minSeq: ev.seq, maxSeq: ev.seq };
      this.boots.set(key, boot);
    }
    if (boot.seqs.has(ev.seq)) this.conflicts.push(`seq ${ev.seq} of boot ${ev.bootId} carried by two different ids`);
    boot.seqs.add(ev.seq);
    boot.minSeq = Math.min(boot.minSeq, ev.seq);
    boot.maxSeq = Math.max(boot.maxSeq, ev.seq);
    if (ev.type === 'gateway.started' && Number.isSafeInteger(ev.data?.firstSeq)) boot.firstSeq = ev.data!.firstSeq as number;
    const totals = ev.type === 'gateway.events_shed' ? ev.data?.totals : ev.type === 'gateway.started' ? ev.data?.shed : undefined;
    if (totals && typeof totals === 'object') {
      const sum = Object.values(totals as Record<string, unknown>).reduce<number>((a, v) => a + (typeof v === 'number' ? v : 0), 0);
      this.shedTotals.set(ev.gatewayId, Math.max(this.shedTotals.get(ev.gatewayId) ?? 0, sum));
    }
    return true;
  }

  /** The gateway side: this id was committed to the outbox (acknowledged to its producer). */
  committed(id: string, seq: number): void {
    this.committedIds.set(id, seq);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get distinct(): number {
    return this.byId.size;
  }

  /** Every event received, in (gateway, seq) order. */
  events(): CheckedEvent[] {
    return [...this.byId.values()].map((v) => v.event).sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : a.seq - b.seq));
  }

  /** Committed ids not received yet. */
  undelivered(): string[] {
    return [...this.committedIds.keys()].filter((id) => !this.byId.has(id));
  }

  verdict(): Verdict {
    const problems = [...this.conflicts];
    const boots: BootReport[] = [];
    const missingPerGateway = new Map<string, number>();
    for (const b of this.boots.values()) {
      const first = b.firstSeq ?? b.minSeq;
      if (b.firstSeq !== null && b.minSeq < b.firstSeq) problems.push(`boot ${b.bootId} of ${b.gatewayId}: seq ${b.minSeq} is below its announced first seq ${b.firstSeq}`);
      const missing: number[] = [];
      for (let s = first; s <= b.maxSeq; s++) if (!b.seqs.has(s)) missing.push(s);
      boots.push({ gatewayId: b.gatewayId, bootId: b.bootId, firstSeq: first, anchored: b.firstSeq !== null, lastSeq: b.maxSeq, received: b.seqs.size, missing });
      missingPerGateway.set(b.gatewayId, (missingPerGateway.get(b.gatewayId) ?? 0) + missing.length);
    }
    for (const [gw, missing] of missingPerGateway) {
      const shed = this.shedTotals.get(gw) ?? 0;
      if (missing > shed) {
        const gaps = boots.filter((b) => b.gatewayId === gw && b.missing.length > 0).map((b) => `boot ${b.bootId.slice(0, 8)}: ${listSeqs(b.missing)}`);
        problems.push(`${gw}: ${missing} seqs missing, only ${shed} accounted for by shedding (${gaps.join('; ')})`);
      }
    }
    const undelivered = this.undelivered();
    if (undelivered.length > 0) {
      const list = undelivered.slice(0, MAX_LISTED).map((id) => `${id} (seq ${this.committedIds.get(id)})`);
      problems.push(`${undelivered.length} committed events never arrived: ${list.join(', ')}${undelivered.length > MAX_LISTED ? ', ...' : ''}`);
    }
    if (this.malformed > 0) problems.push(`${this.malformed} malformed events`);
    return {
      ok: problems.length === 0,
      problems,
      distinct: this.byId.size,
      duplicates: this.duplicates,
      malformed: this.malformed,
      boots,
      undelivered,
      shed: Object.fromEntries(this.shedTotals),
    };
  }
}

function listSeqs(seqs: number[]): string {
  const shown = seqs.slice(0, MAX_LISTED).join(', ');
  return seqs.length > MAX_LISTED ? `${shown}, ... (${seqs.length})` : shown;
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
