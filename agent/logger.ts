/**
 * pino, writing synchronously: lines written before a SIGKILL or power cut are kept
 * (async pino loses most of them). JSON by default, pretty on a terminal.
 */
import pino, { type Logger } from 'pino';

/** pino-pretty is loaded only for a terminal: on a gateway it would be memory for nothing. */
export async function createLogger(level: string, opts: { pretty?: boolean; fd?: number } = {}): Promise<Logger> {
  const fd = opts.fd ?? 1;
  const usePretty = opts.pretty ?? (process.stdout.isTTY === true && fd === 1);
  const stream = usePretty
    ? (await import('pino-pretty')).default({ sync: true, destination: fd, colorize: true })
    : pino.destination({ fd, sync: true });
  return pino({ level, base: { pid: process.pid } }, stream);
}
