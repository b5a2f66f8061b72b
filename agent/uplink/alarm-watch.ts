/**
 * Checks that the oldest alarm on the wire gets its PUBACK within alarmAckTimeoutMs. Far
 * longer than an alarm takes on any link the budget allows (its queue is bounded in
 * airtime), so running out means the link is dead without a FIN (a cell that vanished):
 * waiting for the keepalive to notice could take one and a half keepalives.
 */
import type { Logger } from 'pino';
import { failure } from '../../core/kernel/errors.js';

export interface AlarmWatchOptions {
  limitMs: number;
  monoMs: () => number;
  /** monoMs() when the oldest alarm still on the wire was sent, or null. */
  oldestSentMs: () => number | null;
  /** Whether a link is attached: a detached drain has nothing to drop. */
  attached: () => boolean;
  /** The alarm is overdue: the connection is to be dropped. */
  onOverdue: (reason: string) => void;
  logger: Logger;
}

export class AlarmWatch {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: AlarmWatchOptions) {}

  /** An alarm went on the wire: watch the oldest one (a timer already armed stays). */
  arm(): void {
    if (this.timer) return;
    const { limitMs, monoMs, oldestSentMs } = this.opts;
    const oldest = oldestSentMs();
    if (oldest === null) return;
    this.timer = setTimeout(() => this.check(), Math.max(0, oldest + limitMs - monoMs()));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private check(): void {
    this.timer = null;
    const { limitMs, monoMs, oldestSentMs, logger } = this.opts;
    const still = oldestSentMs();
    if (still === null || !this.opts.attached()) return;
    if (monoMs() - still >= limitMs) {
      logger.warn(failure('TIMEOUT', null, { limitMs }), 'no PUBACK for an alarm in time; dropping the connection');
      this.opts.onOverdue(`no PUBACK for an alarm within ${limitMs} ms`);
    } else this.arm();
  }
}
