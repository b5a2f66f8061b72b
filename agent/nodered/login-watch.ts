/**
 * What the agent does with the editor's failed logins (reported by the child's front,
 * flows/runtime/editor-front.ts): counts them, logs them within a budget of their own (a
 * stranger guessing from many addresses must not fill the SD card, nor crowd out the flows'
 * lines), and raises `nodered.login_failed` when a client reaches FREE_FAILURES in a row, the
 * moment the front starts blocking it: at most 10 such events an hour, so the county hears
 * of an attack without its budget being spent on it. A guess spread over many addresses, each
 * failing once or twice, never blocks a client: GUESSING_FAILURES failures from at least
 * GUESSING_CLIENTS clients within GUESSING_WINDOW_MS raise `nodered.login_guessing` instead,
 * once per window.
 */
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import type { LoginFailure } from '../../core/contracts/nodered-ipc.js';
import { TokenBucket } from '../uplink/token-bucket.js';
import { failure } from '../../core/kernel/errors.js';

/** Failures in a row from one client that raise the event (the front blocks from there on). */
export const LOGIN_EVENT_AFTER = 5;
const EVENTS_PER_HOUR = 10;
const LINES_PER_MIN = 30;
export const GUESSING_FAILURES = 30;
export const GUESSING_CLIENTS = 5;
export const GUESSING_WINDOW_MS = 10 * 60_000;
/** Clients remembered for the count of distinct ones (a flood from a million addresses stays bounded). */
const CLIENTS_KEPT = 1000;

export class LoginWatch {
  /** Failed logins since the agent started, across child restarts. */
  failures = 0;
  private readonly events: TokenBucket;
  private readonly lines: TokenBucket;
  private unlogged = 0;
  /** When the last GUESSING_FAILURES failures came (monotonic ms), oldest first. */
  private readonly recent: number[] = [];
  /** Client -> its last failure (monotonic ms), oldest first. */
  private readonly clients = new Map<string, number>();
  private guessingUntil = -Infinity;

  constructor(
    private readonly logger: Logger,
    private readonly gatewayId: string,
    private readonly emit: (e: EventInput) => void,
    private readonly monoMs: () => number,
  ) {
    this.events = new TokenBucket(EVENTS_PER_HOUR / 3600, EVENTS_PER_HOUR, monoMs);
    this.lines = new TokenBucket(LINES_PER_MIN / 60, LINES_PER_MIN, monoMs);
  }

  note(f: LoginFailure): void {
    this.failures += 1;
    if (this.lines.take() === 0) {
      this.logger.warn(
        failure('LOGIN_FAILED', null, {
          client: f.client,
          username: f.username,
          inRow: f.inRow,
          blockedMs: f.blockedMs,
          unlogged: this.unlogged,
        }),
        'Node-RED editor: failed login',
      );
      this.unlogged = 0;
    } else this.unlogged += 1;
    if (f.inRow === LOGIN_EVENT_AFTER && this.events.take() === 0)
      this.emit({
        deviceId: this.gatewayId,
        type: 'nodered.login_failed',
        priority: 'high',
        data: { client: f.client, count: f.inRow, total: f.total, blockedSec: Math.ceil(f.blockedMs / 1000) },
      });
    this.watchSpread(f.client);
  }

  private watchSpread(client: string): void {
    const now = this.monoMs();
    this.recent.push(now);
    if (this.recent.length > GUESSING_FAILURES) this.recent.shift();
    this.clients.delete(client);
    this.clients.set(client, now);
    for (const [c, at] of this.clients) {
      if (at > now - GUESSING_WINDOW_MS && this.clients.size <= CLIENTS_KEPT) break;
      this.clients.delete(c);
    }
    const full = this.recent.length === GUESSING_FAILURES && this.recent[0]! > now - GUESSING_WINDOW_MS;
    if (!full || this.clients.size < GUESSING_CLIENTS || now < this.guessingUntil) return;
    this.guessingUntil = now + GUESSING_WINDOW_MS;
    if (this.events.take() === 0)
      this.emit({
        deviceId: this.gatewayId,
        type: 'nodered.login_guessing',
        priority: 'high',
        data: { failures: GUESSING_FAILURES, clients: this.clients.size, windowSec: GUESSING_WINDOW_MS / 1000 },
      });
  }
}
