/**
 * The county side of a fleet run: one consumer, or K consumers in a shared-subscription group
 * (`$share/<group>/village/+/events`, ...), each a real CountySubscriber. Every copy that
 * arrives at any of them is de-duplicated here by event id (across consumers: after a drop the
 * broker may hand a re-sent event to another member), and per gateway the seqs are counted so a
 * gap shows. With `check`, every copy also goes through the county's DeliveryChecker (ids,
 * contiguous seqs from each boot's announced first seq, identical duplicates); it costs CPU in
 * the measured process, so a benchmark leaves it off.
 */
import { CountySubscriber } from '../county-subscriber.js';
import { DeliveryChecker, type Verdict } from './delivery-checker.js';

export interface FleetCountyOptions {
  url: string;
  root: string;
  consumers: number;
  /** Shared-subscription group; required when consumers > 1 (else each would get every message). */
  share?: string;
  protocolVersion: 4 | 5;
  /** Client ids are `<idPrefix>-<i>` (persistent sessions, as a county's would be). */
  idPrefix: string;
  check: boolean;
}

interface GatewaySeqs {
  seqs: Set<number>;
  max: number;
}

export class FleetCounty {
  readonly consumers: CountySubscriber[] = [];
  /** Events (distinct ids) taken by each consumer. */
  readonly perConsumer: number[];
  readonly checker: DeliveryChecker | null;
  duplicates = 0;
  messages = 0;
  bytes = 0;
  /** Arrival minus capture time (ms) of the events marked for it (see `measureLatency`). */
  readonly latenciesMs: number[] = [];
  measureLatency = false;
  private readonly ids = new Set<string>();
  private readonly gateways = new Map<string, GatewaySeqs>();
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: FleetCountyOptions) {
    if (opts.consumers > 1 && opts.share === undefined)
      throw new Error('several county consumers need a shared-subscription group (share)');
    this.perConsumer = Array.from({ length: opts.consumers }, () => 0);
    this.checker = opts.check ? new DeliveryChecker() : null;
  }

  get distinct(): number {
    return this.ids.size;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.opts.consumers; i++) {
      const sub = new CountySubscriber({
        url: this.opts.url,
        root: this.opts.root,
        clientId: `${this.opts.idPrefix}-${i + 1}`,
        protocolVersion: this.opts.protocolVersion,
        ...(this.opts.share !== undefined ? { share: this.opts.share } : {}),
      });
      sub.on('arrival', (raw) => this.arrival(i, raw, Date.now()));
      sub.on('media', (gatewayId, pictureId, payload) => this.checker?.chunk(gatewayId, pictureId, payload));
      // A refused chunk is the checker's to judge (its picture verdict names it), not an unreadable message.
      sub.on('unreadable', (topic, why) =>
        sub.isMediaTopic(topic) ? undefined : this.checker?.unreadableMessage(topic, why),
      );
      this.consumers.push(sub);
      await sub.start();
      sub.client!.on('message', (topic, payload) => {
        if (topic.startsWith(`${this.opts.root}/`)) {
          this.messages += 1;
          this.bytes += payload.length;
        }
      });
    }
  }

  private arrival(consumer: number, raw: unknown, arrivedMs: number): void {
    this.checker?.receive(raw);
    const ev = raw as { id?: unknown; gatewayId?: unknown; seq?: unknown; ts?: unknown };
    if (typeof ev?.id !== 'string' || typeof ev.gatewayId !== 'string' || typeof ev.seq !== 'number') return;
    if (this.ids.has(ev.id)) {
      this.duplicates += 1;
      return;
    }
    this.ids.add(ev.id);
    this.perConsumer[consumer]! += 1;
    let gw = this.gateways.get(ev.gatewayId);
    if (!gw) this.gateways.set(ev.gatewayId, (gw = { seqs: new Set(), max: 0 }));
    gw.seqs.add(ev.seq);
    gw.max = Math.max(gw.max, ev.seq);
    if (this.measureLatency && typeof ev.ts === 'string') this.latenciesMs.push(arrivedMs - Date.parse(ev.ts));
    if (this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves true once `distinct` reaches `n`, false after `timeoutMs` without it (no throw: the report says what is missing). */
  async waitForDistinct(n: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.ids.size < n) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
    return true;
  }

  /**
   * Per gateway, against what its twin produced (seqs 1..produced): how many seqs are missing.
   * Seqs are contiguous exactly when none is.
   */
  gaps(produced: Map<string, number>): { gateway: string; missing: number }[] {
    const out: { gateway: string; missing: number }[] = [];
    for (const [gateway, n] of produced) {
      const seqs = this.gateways.get(gateway)?.seqs ?? new Set<number>();
      let missing = 0;
      for (let s = 1; s <= n; s++) if (!seqs.has(s)) missing += 1;
      const extra = [...seqs].filter((s) => s < 1 || s > n).length;
      if (missing > 0 || extra > 0) out.push({ gateway, missing: missing + extra });
    }
    return out;
  }

  verdict(): Verdict | null {
    return this.checker?.verdict() ?? null;
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
