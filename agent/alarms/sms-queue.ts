/**
 * SMS out through the gateway's modem: queued (and persisted: a reboot loses none), sent
 * one at a time, retried with backoff on errors worth retrying (no network, SIM busy),
 * rate-limited per hour, and every outcome recorded as an event (`sms.sent`, `sms.failed`)
 * that reaches the county later through the outbox.
 *
 * Residents first: a message is an `alarm` (a resident's press and the alerts rules raise,
 * the gateway's own critical alerts) or a `flow`'s (an alert a Node-RED flow raised). Alarm
 * messages always go ahead of flow messages, and flows spend at most `flowPerHour` of the
 * hourly budget, so at least `perHour - flowPerHour` an hour are kept for alarms whatever the
 * flows do. A flow message over its budget waits without holding up an alarm message.
 *
 * Waits (retry backoff, the hourly budget) run on the monotonic clock: a wall clock set back
 * by a day must not hold an SMS for a day, nor one set forward reset the budget. A message's
 * wall-clock `notBeforeMs` is kept only for a restart, and clamped when read back.
 */
import type { Low } from 'lowdb';
import type { Logger } from 'pino';
import type { Clock } from '../../core/kernel/clock.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import type { CataloguedEventInput } from '../../core/contracts/events/catalogue.js';
import type { AlarmStateData, PendingSms, SmsKind } from './alarm-state.js';
import { uuidv7 } from '../../core/kernel/uuidv7.js';
import { GatewayError, errorMessage, foreignCode, failure } from '../../core/kernel/errors.js';
import type { SmsSender } from '../../core/contracts/sms.js';
import { isStorageRefusal } from '../../core/contracts/outbox-store.js';

/** The hourly SMS budget as `status` shows it (sends in the last hour, on the monotonic clock). */
export interface SmsBudget {
  perHour: number;
  /** What flows can never spend: residents' alarms and the gateway's own. */
  keptForAlarms: number;
  flowShare: number;
  alarmsUsed: number;
  flowsUsed: number;
  /** Alarms may spend the whole budget, the flows' unused share included. */
  alarmsLeft: number;
  flowsLeft: number;
}

export interface SmsQueueOptions {
  state: Low<AlarmStateData>;
  sender: () => SmsSender | null;
  clock: Clock;
  logger: Logger;
  emit(e: EventInput): Promise<GatewayEvent>;
  gatewayId: string;
  /** Every SMS, alarms' and flows'. */
  perHour: number;
  /** What flows may spend of `perHour` (default a quarter of it); the rest is kept for alarms. */
  flowPerHour?: number;
  maxAttempts?: number;
  /** Saving the queue failed (a full card): counted and logged at most once a second by the agent; else logged here. */
  notSaved?: (err: Error) => void;
}

const RETRY_BASE_MS = 15_000;
const NOT_READY_WAIT_MS = 5_000;
const HOUR_MS = 3600_000;

export class SmsQueue {
  sent = 0;
  failed = 0;
  /** Monotonic ms of each send in the last hour (the hourly budget), and of the flows' among them. */
  private readonly sentAt: number[] = [];
  private readonly flowSentAt: number[] = [];
  /** Message id -> monotonic ms it may go at, and the wall-clock `notBeforeMs` it was derived with. */
  private readonly due = new Map<string, { mono: number; wall: number }>();
  private busy = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: SmsQueueOptions) {}

  get pending(): readonly PendingSms[] {
    return this.opts.state.data.sms;
  }

  /** The flows' share of the hourly budget. */
  get flowPerHour(): number {
    return this.opts.flowPerHour ?? flowShareOf(this.opts.perHour);
  }

  /** This hour's budget: what alarms and flows sent, what each may still send, and the share kept for alarms. */
  budget(): SmsBudget {
    const total = this.forgetOlderThanAnHour(this.opts.clock.monoMs());
    const flows = this.flowSentAt.length;
    const { perHour } = this.opts;
    const flowShare = Math.min(this.flowPerHour, perHour);
    return {
      perHour,
      keptForAlarms: perHour - flowShare,
      flowShare,
      alarmsUsed: total - flows,
      flowsUsed: flows,
      alarmsLeft: Math.max(0, perHour - total),
      flowsLeft: Math.max(0, Math.min(flowShare - flows, perHour - total)),
    };
  }

  /** Drops sends older than an hour from the budget; returns how many are left in it. */
  private forgetOlderThanAnHour(mono: number): number {
    for (const sent of [this.sentAt, this.flowSentAt])
      while (sent.length > 0 && mono - sent[0]! > HOUR_MS) sent.shift();
    return this.sentAt.length;
  }

  /** Queues one message per number; `kind` says whose budget it spends (an alarm's unless said). */
  async enqueue(
    to: readonly string[],
    text: string,
    alertId: string | null,
    reason: string,
    kind: SmsKind = 'alarm',
  ): Promise<void> {
    for (const number of to)
      this.opts.state.data.sms.push({
        id: uuidv7(this.opts.clock.now()),
        to: number,
        text,
        alertId,
        reason,
        attempts: 0,
        notBeforeMs: 0,
        ...(kind === 'flow' ? { kind } : {}),
      });
    await this.save();
    void this.pump();
  }

  start(): void {
    this.timer = setInterval(() => void this.pump(), 1000);
    void this.pump();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * When a message may go, on the monotonic clock. Derived from the wall-clock `notBeforeMs`
   * only when that is new to us (after a restart, or set from outside), clamped to the
   * longest backoff: a clock set back meanwhile cannot stretch the wait.
   */
  private dueAt(m: PendingSms, mono: number): number {
    const known = this.due.get(m.id);
    if (known && known.wall === m.notBeforeMs) return known.mono;
    const longest = RETRY_BASE_MS * 2 ** (this.opts.maxAttempts ?? 5);
    const at = mono + Math.min(Math.max(0, m.notBeforeMs - this.opts.clock.now()), longest);
    this.due.set(m.id, { mono: at, wall: m.notBeforeMs });
    return at;
  }

  /** Holds a message back for `ms` (monotonic), recording the wall-clock time for a restart. */
  private holdBack(m: PendingSms, ms: number): void {
    m.notBeforeMs = this.opts.clock.now() + ms;
    this.due.set(m.id, { mono: this.opts.clock.monoMs() + ms, wall: m.notBeforeMs });
  }

  /** Every queued message is due now (their retry backoff is skipped), then the next one goes. */
  async retryNow(): Promise<void> {
    for (const m of this.opts.state.data.sms) m.notBeforeMs = 0;
    await this.pump();
  }

  /**
   * The next message to send: the first due alarm message, else the first due flow message if
   * the flows' budget allows; none while the whole hourly budget is spent.
   */
  private next(mono: number): PendingSms | undefined {
    if (this.forgetOlderThanAnHour(mono) >= this.opts.perHour) return undefined; // over the budget: wait
    const queue = this.opts.state.data.sms;
    const alarm = queue.find((m) => !isFlow(m) && this.dueAt(m, mono) <= mono);
    if (alarm || this.flowSentAt.length >= this.flowPerHour) return alarm;
    return queue.find((m) => isFlow(m) && this.dueAt(m, mono) <= mono);
  }

  /** Sends the next message that is due, if the modem is ready and the hourly budget allows. */
  async pump(): Promise<void> {
    if (this.busy) return;
    const mono = this.opts.clock.monoMs();
    const next = this.next(mono);
    if (!next) return;
    const sender = this.opts.sender();
    if (!sender || !sender.ready) {
      this.holdBack(next, NOT_READY_WAIT_MS);
      return;
    }
    this.busy = true;
    try {
      const receipt = await sender.sendSms(next.to, next.text);
      this.sentAt.push(this.opts.clock.monoMs());
      if (isFlow(next)) this.flowSentAt.push(this.opts.clock.monoMs());
      this.sent += 1;
      this.remove(next);
      await this.save();
      await this.record({
        deviceId: this.opts.gatewayId,
        type: 'sms.sent',
        priority: 'high',
        data: { ...facts(next), parts: receipt.parts, references: receipt.references, encoding: receipt.encoding },
      });
    } catch (err) {
      next.attempts += 1;
      // The sender says what is worth a retry (a congested network is, a wrong number is not).
      const e = err instanceof GatewayError ? err : null;
      const retryable = e?.retryable !== false;
      if (retryable && next.attempts < (this.opts.maxAttempts ?? 5)) {
        this.holdBack(next, RETRY_BASE_MS * 2 ** (next.attempts - 1));
        this.opts.logger.warn(
          failure('SMS_ERROR', err, { to: next.to, attempts: next.attempts }),
          'SMS not sent; will retry',
        );
        await this.save();
      } else {
        this.failed += 1;
        this.remove(next);
        await this.save();
        await this.record({
          deviceId: this.opts.gatewayId,
          type: 'sms.failed',
          priority: 'high',
          data: {
            ...facts(next),
            error: errorMessage(err),
            code: e?.code ?? foreignCode(err) ?? null,
            cms: e?.detail['cms'] ?? null,
          },
        });
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Persists the queue. A full or lost disk must neither crash the agent nor make a sent SMS
   * look unsent (and go again): the failure is logged and the queue lives on in memory.
   */
  private async save(): Promise<void> {
    try {
      await this.opts.state.write();
    } catch (err) {
      if (this.opts.notSaved) this.opts.notSaved(err as Error);
      else this.opts.logger.error(failure('STATE_NOT_SAVED', err), 'SMS queue not saved (kept in memory)');
    }
  }

  private remove(m: PendingSms): void {
    this.due.delete(m.id);
    const q = this.opts.state.data.sms;
    const i = q.indexOf(m);
    if (i >= 0) q.splice(i, 1);
  }

  private async record(outcome: CataloguedEventInput<'sms.sent' | 'sms.failed'>): Promise<void> {
    await this.opts.emit(outcome).catch((err: Error) => {
      // A full disk is counted and logged once a second by the agent (storage-failures.ts).
      if (!isStorageRefusal(err))
        this.opts.logger.error(failure('STORAGE_FAILED', err, { type: outcome.type }), 'SMS outcome not stored');
    });
  }
}

/** The flows' share of an hourly budget when the config does not say: a quarter (20 -> 5), the rest kept for alarms. */
export const flowShareOf = (perHour: number): number => Math.floor(perHour / 4);

/** A message of a flow's; anything else (older files have no kind) is an alarm's. */
const isFlow = (m: PendingSms): boolean => m.kind === 'flow';

/** What both SMS outcome events say about the message. */
const facts = (m: PendingSms) => ({ to: m.to, alertId: m.alertId, reason: m.reason, attempts: m.attempts });
