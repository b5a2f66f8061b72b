/**
 * Logs a camera's recurring problem (a storm, malformed parts, cut parts) once a minute per
 * code, with the count so far: a hostile camera sending a thousand bad parts a second must
 * not write a thousand lines a second to the SD card. The counts themselves are in describe().
 */
import type { Logger } from 'pino';
import { failure, type ErrorCode } from '../../core/kernel/errors.js';

const EVERY_MS = 60_000;

export class ProblemLog {
  private readonly last = new Map<ErrorCode, number>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  report(code: ErrorCode, detail: string, context: Record<string, number>): void {
    const t = this.now();
    const before = this.last.get(code);
    if (before !== undefined && t - before < EVERY_MS) return;
    this.last.set(code, t);
    this.logger.warn(failure(code, null, { ...context, detail }), 'camera stream problem');
  }
}
