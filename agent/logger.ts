/**
 * pino, writing synchronously: lines written before a SIGKILL or power cut are kept
 * (async pino loses most of them). JSON by default, pretty on a terminal. With a ring
 * (diagnostics/log-ring.ts), every line is also kept in memory for the county's `logs` command.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogRing } from './diagnostics/log-ring.js';

/**
 * Fields that hold a secret wherever they appear (one level deep, and at the top): a line that
 * carries a config part or an error with its options shows `[redacted]` instead, on the card as
 * in the `logs` reply.
 */
const SECRET_KEYS = ['password', 'pass', 'secret', 'token', 'pin', 'authorization', 'credentials', 'apiKey'];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`]);

/** pino-pretty is loaded only for a terminal: on a gateway it would be memory for nothing. */
export async function createLogger(
  level: string,
  opts: { pretty?: boolean; fd?: number; ring?: LogRing } = {},
): Promise<Logger> {
  const fd = opts.fd ?? 1;
  const usePretty = opts.pretty ?? (process.stdout.isTTY === true && fd === 1);
  const stream: DestinationStream = usePretty
    ? (await import('pino-pretty')).default({ sync: true, destination: fd, colorize: true })
    : pino.destination({ fd, sync: true });
  const options = { level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (!opts.ring) return pino(options, stream);
  // multistream hands each destination the same JSON line, synchronously: the ring never sees pretty text.
  const streams = pino.multistream([
    { stream, level: 'trace' },
    { stream: opts.ring, level: 'trace' },
  ]);
  return pino(options, streams);
}
