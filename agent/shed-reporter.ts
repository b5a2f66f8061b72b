/**
 * Shedding is never silent: the outbox's shed notices are summed and reported as one
 * `gateway.events_shed` event at most every 10 s (or the health interval) while shedding goes
 * on. A report that cannot be stored either (the disk is still full) keeps its counts for the
 * next attempt, so the county's checker can always cover a gap with them.
 */
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent, Priority } from '../core/contracts/event.js';
import type { ShedReason } from './outbox/shed-ledger.js';
import { failure } from '../core/kernel/errors.js';

export interface ShedReporterPorts {
  gatewayId: string;
  logger: Logger;
  emit(event: EventInput): Promise<GatewayEvent>;
  /** The outbox's persisted totals per priority. */
  totals(): Record<Priority, number>;
}

const REPORT_MS = 10_000;

export class ShedReporter {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly p: ShedReporterPorts) {}

  /** One outbox `shed` notice. Storage losses are logged once a second by StorageFailures, not here. */
  note({ priority, count, reason }: { priority: Priority; count: number; reason: ShedReason }): void {
    if (reason !== 'storage')
      this.p.logger.warn(failure('EVENTS_SHED', null, { priority, count, reason }), 'outbox shed events');
    const key = `${priority}/${reason}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + count);
  }

  start(healthIntervalMs: number): void {
    this.timer ??= setInterval(() => this.report(), Math.min(REPORT_MS, healthIntervalMs));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  report(): void {
    if (this.pending.size === 0) return;
    const counts = new Map(this.pending);
    this.pending.clear();
    this.p
      .emit({
        deviceId: this.p.gatewayId,
        type: 'gateway.events_shed',
        priority: 'high',
        data: { counts: Object.fromEntries(counts), totals: this.p.totals() },
      })
      .catch((err: Error) => {
        this.p.logger.warn(
          failure('STORAGE_FAILED', err),
          'gateway.events_shed not stored; its counts go with the next report',
        );
        for (const [key, n] of counts) this.pending.set(key, (this.pending.get(key) ?? 0) + n);
      });
  }
}
