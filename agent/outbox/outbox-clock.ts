/**
 * The outbox's time, for event ages (age caps, "oldest event"): the wall clock read once when
 * the outbox opens, carried forward by the monotonic clock, and never behind the time it last
 * saved. A wall-clock jump while the agent runs (NTP setting a Pi that booted without an RTC,
 * a technician's manual set) then neither ages every event by a year at once, so the age cap
 * sheds them, nor makes them younger. Across a restart the wall clock is read again; if it
 * is behind the saved time (a Pi boots at its last saved time), the saved time wins.
 * What it cannot tell: a wall clock that is wrong *ahead* at start-up counts as downtime.
 */
import type { Clock } from '../../core/kernel/clock.js';

export const SAVED_CLOCK = 'clock.ms';

export class OutboxClock {
  private readonly base: number;
  private readonly baseMono: number;
  /** `saved` is the time last persisted; `raise(name, value)` keeps the larger of the stored and the given value. */
  constructor(
    saved: number,
    private readonly clock: Clock,
    private readonly raise: (name: string, value: number) => void,
  ) {
    this.base = Math.max(clock.now(), saved);
    this.baseMono = clock.monoMs();
  }

  now(): number {
    return Math.round(this.base + (this.clock.monoMs() - this.baseMono));
  }

  /** Saves the current time (inside a transaction of the caller's), so a restart never goes back before it. */
  persist(): void {
    this.raise(SAVED_CLOCK, this.now());
  }
}
