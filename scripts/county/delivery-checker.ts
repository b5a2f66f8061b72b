/**
 * The end-to-end delivery verdict, as the county can judge it (and, in tests, the gateway
 * side too). Feed it every event as it arrives, duplicates included; optionally tell it
 * what the gateway committed. It checks:
 *  - per (gatewayId, bootId): seqs contiguous from the boot's first seq (announced by
 *    `gateway.started` as `data.firstSeq`) up to the highest received; a boot whose
 *    `gateway.started` never arrived is a problem (where it begins is unknown) unless the
 *    checker was told it joined late;
 *  - every committed id arrived;
 *  - a seq missing inside a boot, or a committed id that never arrived, is a failure unless
 *    the gateway's shed counters (cumulative, from `gateway.events_shed` and
 *    `gateway.started`) account for it: shedding drops committed events by design. Where the
 *    priority is known (committed events), per priority: `critical` is never shed, so a lost
 *    critical event always fails;
 *  - duplicates (same id) are identical; a seq is never carried by two ids;
 *  - seq strictly increases across boots: no two boots of a gateway overlap;
 *  - no message was unreadable (told by the caller, who decodes): its events are unknown, so
 *    nothing can be said about them.
 *  - the seqs a gateway names in `gateway.events_lost` (alarm-class events its full disk
 *    could not keep) are lost whatever the shed counters say: each is a failure, named.
 * Seq is gateway-wide and strictly increasing across boots (a crash skips the unused rest of
 * a reserved block), so each boot is judged on its own range; the gaps between boots are not
 * events.
 * Pure: no I/O, so tests, the demo and the county CLI share it.
 */
import type { CheckedEvent } from './checked-event.js';
import { ReportedLost } from './reported-lost.js';
import { PictureCheck, type PictureVerdict } from './picture-check.js';
import {
  canonicalJson,
  isEnvelope,
  judgeBoot,
  listSeqs,
  MAX_LISTED,
  MAX_MISSING_LISTED,
  overlaps,
  sum,
  type Boot,
  type BootReport,
} from './boot-judge.js';

export type { CheckedEvent } from './checked-event.js';
export { canonicalJson, MAX_MISSING_LISTED, type BootReport } from './boot-judge.js';

export interface Verdict {
  ok: boolean;
  problems: string[];
  distinct: number;
  duplicates: number;
  malformed: number;
  /** Messages (or file lines) that could not be read at all: whatever events they carried are unknown. */
  unreadable: number;
  boots: BootReport[];
  /** Ids the gateway side said it committed. */
  committed: number;
  /** Committed ids (told by the gateway side) that never arrived. */
  undelivered: string[];
  /** Cumulative shed count per gateway, as reported by the gateway. */
  shed: Record<string, number>;
  /** Per gateway: seqs missing or committed-but-undelivered, all of which shedding must account for. */
  lost: Record<string, number>;
  /** Per gateway: the seqs it reported lost in `gateway.events_lost` (alarms it could not store). */
  reportedLost: Record<string, number[]>;
  /** Pictures put together from their chunks and judged against their `camera.picture` events (picture-check.ts). */
  pictures: PictureVerdict;
}

export interface CheckerOptions {
  /**
   * The listener joined while boots were already running (a county CLI started mid-boot):
   * a boot without `gateway.started` is judged from the lowest seq received instead of failing.
   */
  joinedLate?: boolean;
  /** An announced picture of which no chunk arrived is a problem (else the upload mode may hold it back). */
  picturesRequired?: boolean;
}

interface Committed {
  seq: number;
  gatewayId?: string;
  priority?: string;
}

/** Unreadable messages named in the verdict (the count is always whole). */
const MAX_UNREADABLE_LISTED = 5;
/** Where the gateway reports its cumulative shed counts per priority. */
const SHED_TOTALS: Record<string, string> = { 'gateway.events_shed': 'totals', 'gateway.started': 'shed' };

export class DeliveryChecker {
  private readonly byId = new Map<string, { event: CheckedEvent; canonical: string }>();
  private readonly boots = new Map<string, Boot>();
  private readonly committedIds = new Map<string, Committed>();
  /** gatewayId -> priority -> highest cumulative count reported. */
  private readonly shedTotals = new Map<string, Map<string, number>>();
  private readonly conflicts: string[] = [];
  private readonly reportedLost = new ReportedLost(MAX_MISSING_LISTED);
  duplicates = 0;
  malformed = 0;
  unreadable = 0;
  private readonly unreadableListed: string[] = [];
  private readonly pictureCheck: PictureCheck;

  constructor(private readonly opts: CheckerOptions = {}) {
    this.pictureCheck = new PictureCheck(opts.picturesRequired ?? false);
  }

  /** One arrival (a parsed event object). Returns false for a duplicate or a malformed one. */
  receive(raw: unknown): boolean {
    if (!isEnvelope(raw)) {
      this.malformed += 1;
      return false;
    }
    const ev = raw;
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
      boot = {
        gatewayId: ev.gatewayId,
        bootId: ev.bootId,
        seqs: new Set(),
        firstSeq: null,
        minSeq: ev.seq,
        maxSeq: ev.seq,
      };
      this.boots.set(key, boot);
    }
    if (boot.seqs.has(ev.seq)) this.conflicts.push(`seq ${ev.seq} of boot ${ev.bootId} carried by two different ids`);
    boot.seqs.add(ev.seq);
    boot.minSeq = Math.min(boot.minSeq, ev.seq);
    boot.maxSeq = Math.max(boot.maxSeq, ev.seq);
    if (ev.type === 'gateway.started') {
      const first = ev.data?.firstSeq;
      if (!Number.isSafeInteger(first))
        this.conflicts.push(`gateway.started ${ev.id} of boot ${ev.bootId} has no data.firstSeq`);
      else if (boot.firstSeq !== null) this.conflicts.push(`boot ${ev.bootId} of ${ev.gatewayId} started twice`);
      else boot.firstSeq = first as number;
    }
    this.pictureCheck.event(ev);
    if (ev.type === 'gateway.events_lost') this.conflicts.push(...this.reportedLost.note(ev));
    const totalsKey = SHED_TOTALS[ev.type];
    const totals = totalsKey ? ev.data?.[totalsKey] : undefined;
    if (totals && typeof totals === 'object') {
      const perGateway = this.shedTotals.get(ev.gatewayId) ?? new Map<string, number>();
      this.shedTotals.set(ev.gatewayId, perGateway);
      for (const [priority, n] of Object.entries(totals as Record<string, unknown>)) {
        if (typeof n === 'number' && Number.isFinite(n))
          perGateway.set(priority, Math.max(perGateway.get(priority) ?? 0, n));
      }
    }
    return true;
  }

  /** A message that could not be read at all: where it came from (a topic, a file's line) and why. */
  unreadableMessage(where: string, reason: string): void {
    this.unreadable += 1;
    if (this.unreadableListed.length < MAX_UNREADABLE_LISTED) this.unreadableListed.push(`${where}: ${reason}`);
  }

  /** A picture's chunk message (`<prefix>/<gatewayId>/media/<pictureId>`): its gateway, the topic's picture id, the payload. */
  chunk(gatewayId: string, pictureId: string | null, payload: Buffer): void {
    this.pictureCheck.chunk(gatewayId, pictureId, payload);
  }

  /** Picture chunk messages received (duplicates and refused ones included). */
  get pictureChunks(): number {
    return this.pictureCheck.chunks;
  }

  /**
   * The gateway side: this id was committed to the outbox (acknowledged to its producer).
   * Knowing the gateway and priority lets shedding account for it exactly (a CLI's
   * `stored <seq> <id>` lines give neither: the only gateway seen is assumed).
   */
  committed(id: string, seq: number, meta: { gatewayId?: string; priority?: string } = {}): void {
    this.committedIds.set(id, { seq, ...meta });
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get distinct(): number {
    return this.byId.size;
  }

  /** Every event received, in (gateway, seq) order. */
  events(): CheckedEvent[] {
    return [...this.byId.values()]
      .map((v) => v.event)
      .sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : a.seq - b.seq));
  }

  /** Committed ids not received yet. */
  undelivered(): string[] {
    return [...this.committedIds.keys()].filter((id) => !this.byId.has(id));
  }

  verdict(): Verdict {
    const problems = [...this.conflicts];
    const boots = [...this.boots.values()].map((b) => judgeBoot(b, this.opts.joinedLate ?? false, problems));
    problems.push(...overlaps(boots));
    const undelivered = this.undelivered();
    const { lost, uncovered } = this.account(boots, undelivered, problems);
    // Shed events were committed first: an undelivered one is a problem only where shedding cannot account for it.
    const gateways = new Set(boots.map((b) => b.gatewayId));
    const unexplained = undelivered.filter((id) => uncovered.has(this.gatewayOf(this.committedIds.get(id)!, gateways)));
    if (unexplained.length > 0) {
      const list = unexplained.slice(0, MAX_LISTED).map((id) => describeCommitted(id, this.committedIds.get(id)!));
      problems.push(
        `${unexplained.length} committed events never arrived: ${list.join(', ')}${unexplained.length > MAX_LISTED ? ', ...' : ''}`,
      );
    }
    if (this.malformed > 0) problems.push(`${this.malformed} malformed events`);
    if (this.unreadable > 0)
      problems.push(
        `${this.unreadable} unreadable messages, their events unknown (${this.unreadableListed.join('; ')}${this.unreadable > MAX_UNREADABLE_LISTED ? '; ...' : ''})`,
      );
    problems.push(...this.reportedLost.problems((seqs) => listSeqs(seqs)));
    const pictures = this.pictureCheck.verdict();
    problems.push(...pictures.problems);
    return {
      ok: problems.length === 0,
      problems,
      distinct: this.byId.size,
      duplicates: this.duplicates,
      malformed: this.malformed,
      unreadable: this.unreadable,
      boots,
      committed: this.committedIds.size,
      undelivered,
      shed: Object.fromEntries([...this.shedTotals].map(([gw, per]) => [gw, sum(per.values())])),
      lost,
      reportedLost: this.reportedLost.verdict(),
      pictures: pictures.pictures,
    };
  }

  /** Which gateway a committed id belongs to: as told, else the only gateway seen. */
  private gatewayOf(c: Committed, gateways: Set<string>): string {
    if (c.gatewayId !== undefined) return c.gatewayId;
    return gateways.size === 1 ? [...gateways][0]! : '(unknown gateway)';
  }

  /**
   * Everything lost per gateway against the shed counters: the seqs missing inside boots, plus
   * committed ids that never arrived outside those gaps (each event once); per priority where
   * the priority is known (committed events).
   */
  private account(
    boots: BootReport[],
    undelivered: string[],
    problems: string[],
  ): { lost: Record<string, number>; uncovered: Set<string> } {
    const gateways = new Set(boots.map((b) => b.gatewayId));
    const lost = new Map<string, number>([...gateways].map((gw) => [gw, 0]));
    const lostByPriority = new Map<string, Map<string, number>>();
    for (const b of boots) lost.set(b.gatewayId, lost.get(b.gatewayId)! + b.missingCount);
    for (const id of undelivered) {
      const c = this.committedIds.get(id)!;
      const gw = this.gatewayOf(c, gateways);
      if (!this.inGap(gw, c.seq)) lost.set(gw, (lost.get(gw) ?? 0) + 1);
      if (c.priority !== undefined) {
        const per = lostByPriority.get(gw) ?? lostByPriority.set(gw, new Map()).get(gw)!;
        per.set(c.priority, (per.get(c.priority) ?? 0) + 1);
      }
    }
    const uncovered = new Set<string>();
    for (const [gw, n] of lost) {
      const shed = this.shedTotals.get(gw) ?? new Map<string, number>();
      const short = [...(lostByPriority.get(gw) ?? [])]
        .filter(([p, k]) => k > (shed.get(p) ?? 0))
        .map(([p, k]) => `${k} ${p} lost, ${shed.get(p) ?? 0} ${p} shed`);
      const total = sum(shed.values());
      if (n > total || short.length > 0) {
        const gaps = boots
          .filter((b) => b.gatewayId === gw && b.missingCount > 0)
          .map((b) => `boot ${b.bootId.slice(0, 8)} missing ${listSeqs(b.missing, b.missingCount)}`);
        const detail = [...(short.length > 0 ? [short.join(', ')] : []), ...gaps].join('; ');
        problems.push(
          `${gw}: ${n} events lost, only ${total} accounted for by shedding${detail ? ` (${detail})` : ''}`,
        );
        uncovered.add(gw);
      }
    }
    return { lost: Object.fromEntries(lost), uncovered };
  }

  /** Whether `seq` falls in a gap of one of the gateway's boots (already counted as missing there). */
  private inGap(gatewayId: string, seq: number): boolean {
    for (const b of this.boots.values()) {
      if (b.gatewayId !== gatewayId) continue;
      const first = b.firstSeq ?? b.minSeq;
      if (seq >= first && seq <= b.maxSeq && !b.seqs.has(seq)) return true;
    }
    return false;
  }
}

function describeCommitted(id: string, c: Committed): string {
  return `${id} (seq ${c.seq}${c.priority ? `, ${c.priority}` : ''})`;
}
