/**
 * Storage failures (a full or read-only card) come in bursts: every event of every device
 * fails alike, hundreds a second, and every change of the alarm state (alarms.json, about ten
 * a press). They are counted exactly and logged at most once a second, with what happened
 * since the last line, so the log shows the problem without drowning in it.
 */
import type { Logger } from 'pino';
import type { StorageFailure } from './outbox/outbox.js';
import { failure } from '../core/kernel/errors.js';

const LOG_EVERY_MS = 1000;

export class StorageFailures {
  /** Failed writes by operation, since start. */
  readonly counts: Record<StorageFailure['op'], number> = { commit: 0, delete: 0, sweep: 0 };
  /** Events whose write failed (a failed commit of critical events is an alarm of its own). */
  eventsNotStored = 0;
  lastError: string | null = null;
  /** Writes of the agent's state files that failed, by file (kept in memory meanwhile, saved at the next change). */
  readonly filesNotSaved: Record<string, number> = {};
  private sinceLog = 0;
  private eventsSinceLog = 0;
  private filesSinceLog = 0;
  private lastLogMs = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly monoMs: () => number,
  ) {}

  report(f: StorageFailure): void {
    this.counts[f.op] += 1;
    if (f.op === 'commit') this.eventsNotStored += f.events;
    this.lastError = f.error.message;
    this.sinceLog += 1;
    if (f.op === 'commit') this.eventsSinceLog += f.events;
    this.schedule();
  }

  /**
   * Events refused without a failed write (the disk reserve kept for alarms, outbox.ts): counted
   * as not stored and logged with the failures, at most once a second.
   */
  refused(n: number, error: Error): void {
    this.eventsNotStored += n;
    this.eventsSinceLog += n;
    this.lastError = error.message;
    this.schedule();
  }

  /** A state file (alarms.json) that could not be rewritten. */
  notSaved(file: string, error: Error): void {
    this.filesNotSaved[file] = (this.filesNotSaved[file] ?? 0) + 1;
    this.filesSinceLog += 1;
    this.lastError = `${file}: ${error.message}`;
    this.schedule();
  }

  private schedule(): void {
    const wait = this.lastLogMs + LOG_EVERY_MS - this.monoMs();
    if (wait <= 0) this.log();
    else this.timer ??= setTimeout(() => this.log(), wait);
  }

  private log(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.sinceLog === 0 && this.eventsSinceLog === 0 && this.filesSinceLog === 0) return;
    this.logger.error(
      failure('STORAGE_FAILED', null, {
        failures: this.sinceLog,
        eventsNotStored: this.eventsSinceLog,
        filesNotSaved: this.filesSinceLog,
        totals: this.counts,
        lastError: this.lastError,
      }),
      'storage writes failing',
    );
    this.sinceLog = 0;
    this.eventsSinceLog = 0;
    this.filesSinceLog = 0;
    this.lastLogMs = this.monoMs();
  }

  stop(): void {
    this.log();
  }
}
