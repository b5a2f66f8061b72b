/**
 * The outbox's time, for event ages (age caps, "oldest event"): the wall clock read once when
 * the outbox opens, carried forward by the monotonic clock, and never behind the time it last
 * saved. A wall-clock jump while the agent runs (NTP setting a Pi that booted without an RTC,
 * a technician's manual set) then neither ages every event by a year at once, so the age cap
 * sheds them, nor makes them younger. Across a restart the wall clock is read again; if it
 * is behind the saved time (a Pi boots at its last saved time), the saved time wins.
 * What it cannot tell: a wall clock that is wrong *ahead* at start-up counts as downtime.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../contracts/clock.js';

const SAVED = 'clock.ms';

export class OutboxClock {
  private readonly base: number;
  private readonly baseMono: number;
  private readonly save;

  constructor(db: Database.Database, private readonly clock: Clock) {
    const saved = (db.prepare('SELECT value FROM counters WHERE name = ?').get(SAVED) as { value: number } | undefined)?.value ?? 0;
    this.base = Math.max(clock.now(), saved);
    this.baseMono = clock.monoMs();
    this.save = db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)');
  }

  now(): number {
    return Math.round(this.base + (this.clock.monoMs() - this.baseMono));
  }

  /** Saves the current time (inside a transaction of the caller's), so a restart never goes back before it. */
  persist(): void {
    this.save.run(SAVED, this.now());
  }
}
