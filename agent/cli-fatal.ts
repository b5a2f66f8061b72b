/**
 * What the CLI does on an error nothing caught. Whatever can still run code on the way out
 * switches timed outputs off (agent.stop does). The outbox is flushed first (what is pending is
 * on disk before anything else can hang), then the agent gets longer than its own stop limits
 * to switch outputs off.
 */
import type { Logger } from 'pino';
import { failure } from '../core/kernel/errors.js';
import { Agent } from './agent.js';

export const onFatal =
  (logger: Logger, current: () => Agent | null) =>
  (err: unknown): void => {
    const agent = current();
    logger.fatal(
      failure('UNCAUGHT', err, { stack: err instanceof Error ? err.stack : undefined }),
      'fatal error: stopping',
    );
    try {
      agent?.jobs.flushOutbox();
    } catch (flushErr) {
      logger.error(failure('STORAGE_FAILED', flushErr), 'outbox not flushed on the way out');
    }
    const stopped = agent
      ? agent
          .stop()
          .catch((stopErr: unknown) => logger.error(failure('STOP_FAILED', stopErr), 'stop failed on the way out'))
      : Promise.resolve();
    void Promise.race([stopped, new Promise((r) => setTimeout(r, 4 * Agent.STOP_LIMIT_MS))]).then(() =>
      process.exit(1),
    );
  };
