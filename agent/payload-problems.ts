/**
 * Events whose payload does not match the catalogue: refused (PAYLOAD_INVALID), except an
 * alarm-class event, kept and flagged (an alarm is never dropped over a field's shape). This
 * counts them for health and logs each type at most once a minute, so a chattering device
 * cannot flood the log. Events refused because the county could not read their data
 * (EVENT_UNSENDABLE) are counted here too; `refusedCount` says how many of the count were
 * refused, for either reason.
 */
import type { Logger } from 'pino';
import { failure } from '../core/kernel/errors.js';

const LOG_EVERY_MS = 60_000;

export class PayloadProblems {
  count = 0;
  refusedCount = 0;
  private readonly loggedAt = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly monoMs: () => number,
  ) {}

  invalid(type: string, deviceId: string, problems: string[], kept: boolean): void {
    this.count += 1;
    if (!kept) this.refusedCount += 1;
    if (!this.due(type)) return;
    this.logger.warn(
      failure('PAYLOAD_INVALID', null, { type, deviceId, problems, total: this.count, refused: this.refusedCount }),
      kept
        ? 'alarm payload does not match the catalogue: kept and sent with payloadInvalid'
        : 'event payload does not match the catalogue: refused',
    );
  }

  refused(type: string, deviceId: string, reason: string): void {
    this.count += 1;
    this.refusedCount += 1;
    if (!this.due(`refused ${type}`)) return;
    this.logger.error(
      failure('EVENT_UNSENDABLE', reason, { type, deviceId, total: this.count, refused: this.refusedCount }),
      'event refused: the county could not read its data',
    );
  }

  /** Whether a line about `key` may be logged now (at most one a minute each). */
  private due(key: string): boolean {
    const now = this.monoMs();
    const last = this.loggedAt.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return false;
    this.loggedAt.set(key, now);
    return true;
  }
}
