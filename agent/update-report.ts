/**
 * Reports what the root-side update step decided (agent/update-result.ts) as one critical
 * event: at the agent's start (a rollback restarts the old release, which tells it) and every
 * few seconds while it runs (an applied update is judged while the new release already runs).
 * The file is removed only once the event is stored: a full card reports it at the next start.
 */
import type { Logger } from 'pino';
import type { EventInput } from '../core/contracts/event.js';
import { failure } from '../core/kernel/errors.js';
import { forgetUpdateResult, takeUpdateResult, updateEvent } from './update-result.js';

const LOOK_MS = 5_000;

export interface UpdateReportAgent {
  gatewayId: string;
  emit(e: EventInput): Promise<unknown>;
}

export class UpdateReport {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(private readonly logger: Logger) {}

  started(dataDir: string, agent: UpdateReportAgent): void {
    this.stop();
    const look = () => {
      if (this.busy) return;
      let taken: ReturnType<typeof takeUpdateResult>;
      try {
        taken = takeUpdateResult(dataDir);
      } catch (err) {
        return this.logger.error(
          failure('STATE_UNREADABLE', err, { file: 'update-result.json' }),
          'update result not read',
        );
      }
      if (taken.problem)
        this.logger.error(
          failure('STATE_UNREADABLE', taken.problem, { file: 'update-result.json' }),
          'update result unreadable',
        );
      if (!taken.result) return;
      this.busy = true;
      agent
        .emit(updateEvent(agent.gatewayId, taken.result))
        .then(() => forgetUpdateResult(dataDir))
        .catch((err: unknown) =>
          this.logger.error(failure('STORAGE_FAILED', err), `${taken.result!.outcome} update not stored`),
        )
        .finally(() => (this.busy = false));
    };
    look();
    this.timer = setInterval(look, LOOK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
