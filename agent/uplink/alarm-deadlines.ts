/**
 * Which alarms the broker has not acknowledged in time, told to whoever can send them another
 * way (the SMS fallback). A critical event is late once it has waited `limitMs` since it was
 * stored without a PUBACK, wherever it waited: on a link that swallows bytes and closes
 * nothing, or in the outbox while the link is down. One stored while the link has been down
 * `limitMs` already is late at once: that is an outage, not a flap the urgent reconnect can
 * bridge. Each alarm is reported once; a PUBACK that comes later changes nothing here.
 *
 * The port is narrow on purpose: the uplink says which events are late and why, never what
 * to do about it, so data still flows one way (outbox -> uplink) and the alarm side decides.
 */
import type { GatewayEvent } from '../../core/contracts/event.js';

/** An alarm the broker has not acknowledged in time. */
export interface LateAlarm {
  id: string;
  seq: number;
  type: string;
  deviceId: string;
}

/** Told the alarms that went late together, and why in words (for the SMS's recorded reason). */
export type LateAlarmsListener = (alarms: readonly LateAlarm[], reason: string) => void;

export interface AlarmDeadlinesOptions {
  /** How long an alarm may wait for its PUBACK (mqtt.alarmRetry.ackTimeoutMs). */
  limitMs: number;
  monoMs: () => number;
  /** Monotonic ms the link went down (null while up). */
  downSinceMs: () => number | null;
  /** A listener threw: reported, and the others are still told. */
  onListenerError: (err: unknown) => void;
}

interface Waiting extends LateAlarm {
  storedMs: number;
}

export class AlarmDeadlines {
  /** By seq: that is how a PUBACKed outbox row names its event. */
  private readonly waiting = new Map<number, Waiting>();
  private readonly listeners = new Set<LateAlarmsListener>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: AlarmDeadlinesOptions) {}

  onLate(listener: LateAlarmsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events the outbox committed: the critical ones start waiting for their PUBACK. */
  stored(events: readonly GatewayEvent[]): void {
    const now = this.opts.monoMs();
    let added = false;
    for (const e of events) {
      if (e.priority !== 'critical') continue;
      this.waiting.set(e.seq, { id: e.id, seq: e.seq, type: e.type, deviceId: e.deviceId, storedMs: now });
      added = true;
    }
    if (added) this.schedule();
  }

  /**
   * Alarms a previous run stored and the broker never acknowledged (read from the outbox at
   * start): they wait from now, as if just stored. A resident pressed, the power went, the link
   * is still down: the alert goes by SMS `limitMs` after the restart, unless it went before.
   */
  restored(alarms: readonly LateAlarm[]): void {
    const now = this.opts.monoMs();
    for (const a of alarms) this.waiting.set(a.seq, { ...a, storedMs: now });
    if (alarms.length > 0) this.schedule();
  }

  /** Rows the broker acknowledged. */
  delivered(rows: readonly { seq: number }[]): void {
    for (const r of rows) this.waiting.delete(r.seq);
  }

  /** The link went down: alarms waiting may now be due sooner. */
  linkChanged(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private dueMs(w: Waiting, downSince: number | null): number {
    return (downSince === null ? w.storedMs : Math.min(w.storedMs, downSince)) + this.opts.limitMs;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || this.waiting.size === 0) return;
    const downSince = this.opts.downSinceMs();
    let first = Infinity;
    for (const w of this.waiting.values()) first = Math.min(first, this.dueMs(w, downSince));
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.check();
      },
      Math.max(0, first - this.opts.monoMs()),
    );
  }

  private check(): void {
    const now = this.opts.monoMs();
    const downSince = this.opts.downSinceMs();
    const late: LateAlarm[] = [];
    for (const [seq, w] of this.waiting) {
      if (this.dueMs(w, downSince) > now) continue;
      this.waiting.delete(seq);
      late.push({ id: w.id, seq: w.seq, type: w.type, deviceId: w.deviceId });
    }
    if (late.length > 0) {
      const reason =
        downSince === null
          ? `no PUBACK within ${this.opts.limitMs} ms`
          : `not delivered within ${this.opts.limitMs} ms (uplink down)`;
      for (const listener of this.listeners) {
        try {
          listener(late, reason);
        } catch (err) {
          this.opts.onListenerError(err);
        }
      }
    }
    this.schedule();
  }
}
