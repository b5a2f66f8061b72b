/**
 * Events whose payload does not match the catalogue. They are kept and sent as they are (an
 * alarm is never dropped over a field's shape); this counts them for health and logs each
 * type at most once a minute, so a chattering device cannot flood the log.
 */
import type { Logger } from 'pino';

const LOG_EVERY_MS = 60_000;

export class PayloadProblems {
  count = 0;
  private readonly loggedAt = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly monoMs: () => number,
  ) {}

  note(type: string, deviceId: string, problems: string[]): void {
    this.count += 1;
    const now = this.monoMs();
    const last = this.loggedAt.get(type);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    this.loggedAt.set(type, now);
    this.logger.warn(
      { type, deviceId, problems, total: this.count },
      'event payload does not match the catalogue; kept and sent as it is',
    );
  }
}
