/**
 * Stopping with a time limit: a part that never finishes its close (a serial port, a TCP
 * gateway that does not answer its FIN) must not hold up the outbox's flush or a reload.
 */
import { failure } from './errors.js';

/** Settles `work` or gives up after `limitMs`; resolves true when `work` finished in time. */
export function settleWithin(work: Promise<unknown>, limitMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(
      () => true,
      () => true, // a failed close is still finished; the caller logged the error where it happened
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), limitMs))),
  ]).finally(() => clearTimeout(timer));
}

export interface Stoppable {
  /** How the log names it: `device siren-board`, `bus rs485`. */
  name: string;
  stop(): Promise<void>;
}

/**
 * Stops every part at once and waits at most `limitMs` for all of them (settled: a part that
 * rejects does not stop the others). Names what did not stop in time, and what failed.
 */
export async function stopAll(
  parts: Stoppable[],
  limitMs: number,
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void },
): Promise<{ late: string[]; failed: string[] }> {
  const late = new Set(parts.map((p) => p.name));
  const failed: string[] = [];
  const runs = parts.map((p) => {
    let run: Promise<void>;
    try {
      run = p.stop();
    } catch (err) {
      run = Promise.reject(err as Error);
    }
    return run.then(
      () => void late.delete(p.name),
      (err: unknown) => {
        late.delete(p.name);
        failed.push(p.name);
        logger.error(failure('STOP_FAILED', err, { stopping: p.name }), 'stop failed');
      },
    );
  });
  await settleWithin(Promise.allSettled(runs), limitMs);
  if (late.size > 0)
    logger.warn(
      failure('STOP_FAILED', null, { parts: [...late], limitMs }),
      `did not stop within ${limitMs} ms: ${[...late].join(', ')}; going on without them`,
    );
  return { late: [...late], failed };
}
