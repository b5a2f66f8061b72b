/**
 * Alarms the disk could not keep. Once the disk reserve is spent too (disk-reserve.ts), an
 * alarm-class event (alarm-class.ts) may still fail to commit. It is then:
 * - counted as lost by its seq and kept in memory (the last MAX_KEPT, for `status`);
 * - reported to the county in a critical `gateway.events_lost` (count, seq ranges, types),
 *   coalesced over REPORT_AFTER_MS. That report goes through the outbox when it can be stored,
 *   else from memory (the uplink's MemorySender), so the county hears of the loss even when
 *   nothing can be stored, and its checker counts the named seqs as lost. A report sent from
 *   memory is stored, the same envelope, once the disk reserve is written back
 *   (storeHeldReports): the memory holds it only until a restart, the outbox across one;
 * - sent by SMS: the alert it is (or the alert its press raised) goes out at once, whether or
 *   not the link is up (LocalAlarms.smsForUnstored).
 * Other events refused for lack of room are only counted, and logged at most once a second
 * (storage-failures.ts).
 */
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../core/contracts/event.js';
import { isStorageRefusal } from '../core/contracts/outbox-store.js';
import { isAlarmClass } from './outbox/alarm-class.js';
import { failure } from '../core/kernel/errors.js';

export interface LostAlarmsPorts {
  gatewayId: string;
  logger: Logger;
  emit(e: EventInput, beforeCommit: (event: GatewayEvent) => void): Promise<GatewayEvent>;
  sendFromMemory(event: GatewayEvent): void;
  /** Commits an envelope already made (a report that went from memory) to the outbox. */
  store(event: GatewayEvent): Promise<void>;
  /** The SMS fallback for an alarm that was not stored (its alert, by id). */
  sms(eventId: string): Promise<void>;
  /** Counts and logs (at most once a second) events refused for lack of room. */
  refused(n: number, error: Error): void;
}

export interface LostAlarm {
  seq: number;
  id: string;
  type: string;
  deviceId: string;
  /** The event's own time (ISO). */
  ts: string;
}

/** What `status` shows of the lost alarms: how many, and the last few. */
export interface LostAlarmsReport {
  total: number;
  last: LostAlarm[];
  /** `gateway.events_lost` reports handed to the uplink's memory (the disk could not take them either). */
  sentFromMemory: number;
  /** Of those, how many are not stored yet (lost at a restart before the county's broker has them). */
  notStored: number;
}

/** How many of the last lost alarms `status` names. */
const SHOWN = 5;

/** A report waits this long for more losses, and comes at most once a second (as the log line with it). */
const REPORT_AFTER_MS = 200;
const REPORT_EVERY_MS = 1000;
const MAX_KEPT = 1000;

export class LostAlarms {
  /** Alarm-class events lost since start. */
  total = 0;
  /** The last MAX_KEPT of them. */
  readonly kept: LostAlarm[] = [];
  /** `gateway.events_lost` reports handed to the uplink's memory (not storable either). */
  sentFromMemory = 0;
  private unreported: LostAlarm[] = [];
  /** Reports sent from memory and not yet stored (the county may have them; it drops duplicates by id). */
  private readonly unstored: GatewayEvent[] = [];
  private reason = '';
  private timer: NodeJS.Timeout | null = null;
  private lastReportMs = -Infinity;

  constructor(private readonly ports: LostAlarmsPorts) {}

  /** Called for every event with its commit: a refusal is counted, an alarm's is reported. */
  watch(event: GatewayEvent, stored: Promise<void>): void {
    stored.catch((err: Error) => this.notStored(event, err));
  }

  private notStored(event: GatewayEvent, err: Error): void {
    if (!isStorageRefusal(err)) return; // the outbox closing at stop: the producer says so
    // A failed write was counted with its batch (StorageFailures.report); a refusal was not.
    if ((err as { code?: string }).code === 'DISK_FULL') this.ports.refused(1, err);
    // A report that cannot be stored goes from memory (report()); it is no loss of its own.
    if (!isAlarmClass(event) || event.type === 'gateway.events_lost') return;
    const lost: LostAlarm = { seq: event.seq, id: event.id, type: event.type, deviceId: event.deviceId, ts: event.ts };
    this.total += 1;
    this.kept.push(lost);
    if (this.kept.length > MAX_KEPT) this.kept.shift();
    this.unreported.push(lost);
    this.reason = err.message;
    const wait = Math.max(REPORT_AFTER_MS, this.lastReportMs + REPORT_EVERY_MS - performance.now());
    this.timer ??= setTimeout(() => this.report(), wait);
    this.ports
      .sms(event.id)
      .catch((e: Error) =>
        this.ports.logger.error(failure('SMS_NOT_QUEUED', e, { id: event.id }), 'SMS for a lost alarm not queued'),
      );
  }

  describe(): LostAlarmsReport {
    return {
      total: this.total,
      last: this.kept.slice(-SHOWN).map((l) => ({ ...l })),
      sentFromMemory: this.sentFromMemory,
      notStored: this.unstored.length,
    };
  }

  /** Reports what was lost since the last report; the agent calls it at stop too. */
  report(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const lost = this.unreported;
    if (lost.length === 0) return;
    this.unreported = [];
    this.lastReportMs = performance.now();
    const types: Record<string, number> = {};
    for (const l of lost) types[l.type] = (types[l.type] ?? 0) + 1;
    const data = { count: lost.length, seqs: seqRanges(lost.map((l) => l.seq)), types, reason: this.reason };
    this.ports.logger.fatal(
      failure('ALARM_LOST', null, { ...data, total: this.total }),
      'alarms not stored (the disk is full past its reserve): reported to the county, sent by SMS',
    );
    let report: GatewayEvent | null = null;
    this.ports
      .emit({ deviceId: this.ports.gatewayId, type: 'gateway.events_lost', priority: 'critical', data }, (e) => {
        report = e;
      })
      .catch((err: Error) => {
        if (!report) return this.ports.logger.error(failure('STORAGE_FAILED', err), 'gateway.events_lost not created');
        this.sentFromMemory += 1;
        this.ports.sendFromMemory(report);
        this.unstored.push(report);
      });
  }

  /** Stores the reports that went from memory (the disk has room again); one that fails waits for the next try. */
  storeHeldReports(): void {
    for (const report of [...this.unstored])
      this.ports.store(report).then(
        () => this.unstored.splice(this.unstored.indexOf(report), 1),
        (err: Error) =>
          isStorageRefusal(err) ||
          this.ports.logger.error(failure('STORAGE_FAILED', err, { id: report.id }), 'gateway.events_lost not stored'),
      );
  }
}

/** Sorted seqs as inclusive [first, last] ranges. */
export function seqRanges(seqs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const s of [...seqs].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], s);
    else out.push([s, s]);
  }
  return out;
}
