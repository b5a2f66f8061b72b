/**
 * How soon a Node-RED child that went is started again, and what is said about it. A restart the
 * agent asked for (a disk hold, leaving safe mode, new passwords) is at once; after a crash the
 * wait grows (backoff with jitter), back to the shortest after a child that ran a good while;
 * a crash is logged and raised as `nodered.stopped` (high) with the wait.
 */
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import { Backoff } from '../../core/kernel/backoff.js';
import { failure } from '../../core/kernel/errors.js';
import type { ExitKind } from './crash-loop.js';

export interface RestartOptions {
  restart?: { minMs: number; maxMs: number } | undefined;
  gatewayId: string;
  logger: Logger;
  emit(e: EventInput): void;
}

export class Restarts {
  private readonly backoff: Backoff;
  /** Every restart since the agent started, asked for or not. */
  count = 0;

  constructor(private readonly o: RestartOptions) {
    const r = o.restart ?? { minMs: 1000, maxMs: 60_000 };
    this.backoff = new Backoff(r.minMs, r.maxMs, 0.2);
  }

  /** A restart asked for: now, and the next crash waits the shortest time. */
  asked(): void {
    this.count += 1;
    this.backoff.reset();
  }

  /** The child crashed (or was killed by the agent's judgement); returns the wait before its next start. */
  crashed(reason: ExitKind, code: number | null, signal: NodeJS.Signals | null, ranLong: boolean): number {
    this.count += 1;
    // A child that ran a good while was not crashing: start again from the shortest wait.
    if (ranLong) this.backoff.reset();
    const restartInMs = this.backoff.next();
    this.o.logger.warn(failure('NODE_RED_FAILED', null, { exit: code, signal, reason, restartInMs }), 'child stopped');
    const data = { reason, code, signal, restartInMs, restarts: this.count };
    this.o.emit({ deviceId: this.o.gatewayId, type: 'nodered.stopped', priority: 'high', data });
    return restartInMs;
  }

  /** No child could be started (out of processes or memory): tried again later, like after a crash. */
  launchFailed(err: unknown): number {
    this.o.logger.error(failure('NODE_RED_FAILED', err), 'Node-RED child could not be started');
    this.count += 1;
    return this.backoff.next();
  }
}
