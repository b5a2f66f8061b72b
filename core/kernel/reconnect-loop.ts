/**
 * The reconnect loop every link shares (the county uplink, a Modbus bus, a serial line):
 * try, and when the attempt fails or a live link goes away, wait a backoff with jitter and
 * try again; a link that came up resets the backoff; stop() cancels the wait. Its state and
 * counters are what describe() and health report.
 *
 * It owns no I/O. The owner's `attempt` opens one link (a new mqtt.js client, a modbus-serial
 * client, a SerialPort) and reports how it went with up() or down(); so the link's own
 * quirks (mqtt.js's reconnect turned off, a unit that does not answer, a device path that is
 * gone until the adapter is plugged back) stay with the owner, and the loop stays small.
 */
import type { Backoff } from './backoff.js';

export type LinkState = 'down' | 'connecting' | 'up' | 'stopped';

/** Runs `run` after `delayMs`; returns what cancels it. Tests pass a fake one. */
export type Schedule = (run: () => void, delayMs: number) => () => void;

const realSchedule: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  return () => clearTimeout(timer);
};

export interface ReconnectLoopOptions {
  backoff: Backoff;
  /**
   * Starts one attempt, and later calls up() or down() on the loop. It must not throw (it runs
   * from a timer): an owner catches what its library throws, keeps the reason, and calls down().
   */
  attempt: () => void;
  /** Told each wait before the next attempt (the owner logs it in its own words). */
  onWait?: (delayMs: number) => void;
  /**
   * A shorter wait when something urgent waits for the link (the uplink: alarms in the
   * outbox), or null: the backoff's wait is cut to it. The backoff itself keeps growing, so
   * the long waits come back once nothing urgent is left.
   */
  urgentDelay?: () => number | null;
  schedule?: Schedule;
}

export class ReconnectLoop {
  /** Attempts made, the first one included. */
  attempts = 0;
  /** Attempts made after a wait (every attempt but the ones start() made). */
  retries = 0;
  /** Times a link came up. */
  ups = 0;
  /** Times a live link went away (a failed attempt is not a loss). */
  losses = 0;
  private current: LinkState = 'down';
  private cancelWait: (() => void) | null = null;
  /** The length of the current wait (0 when not waiting). */
  private waitMs = 0;
  private readonly schedule: Schedule;

  constructor(private readonly opts: ReconnectLoopOptions) {
    this.schedule = opts.schedule ?? realSchedule;
  }

  get state(): LinkState {
    return this.current;
  }

  /** Attempts now, unless an attempt is running or the link is up. Starts a stopped loop again. */
  start(): void {
    if (this.current === 'connecting' || this.current === 'up') return;
    this.clearWait();
    this.current = 'down';
    this.run();
  }

  /**
   * The attempt succeeded: the link is up and the backoff starts over. False (ignored) unless an attempt was
   * running.
   */
  up(): boolean {
    if (this.current !== 'connecting') return false;
    this.current = 'up';
    this.ups += 1;
    this.opts.backoff.reset();
    return true;
  }

  /**
   * The attempt failed, or the live link went away: wait, then attempt again. Ignored once
   * stopped, and while already waiting (a link reports its loss once, however many ways).
   */
  down(): void {
    if (this.current === 'stopped' || this.current === 'down') return;
    if (this.current === 'up') this.losses += 1;
    this.current = 'down';
    const backoff = this.opts.backoff.next();
    const urgent = this.opts.urgentDelay?.() ?? null;
    this.wait(urgent !== null && urgent < backoff ? urgent : backoff);
  }

  /**
   * Something urgent came up while waiting (an alarm, a modem registered again): cut the wait
   * to `delayMs` (default: the urgent delay) if the current one is longer. A no-op unless waiting.
   */
  hurry(delayMs: number | null = this.opts.urgentDelay?.() ?? null): void {
    if (this.current !== 'down' || !this.cancelWait || delayMs === null || delayMs >= this.waitMs) return;
    this.clearWait();
    this.wait(delayMs);
  }

  private wait(delayMs: number): void {
    this.waitMs = delayMs;
    this.opts.onWait?.(delayMs);
    this.cancelWait = this.schedule(() => {
      this.cancelWait = null;
      this.waitMs = 0;
      this.retries += 1;
      this.run();
    }, delayMs);
  }

  /** Cancels a pending wait; an attempt still running is the owner's to end (its up() is then ignored). */
  stop(): void {
    this.clearWait();
    this.current = 'stopped';
  }

  private run(): void {
    if (this.current !== 'down') return;
    this.current = 'connecting';
    this.attempts += 1;
    this.opts.attempt();
  }

  private clearWait(): void {
    this.cancelWait?.();
    this.cancelWait = null;
    this.waitMs = 0;
  }
}
