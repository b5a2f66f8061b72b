/** The clock is an edge we own, so tests replace it with a fake one. */
export interface Clock {
  /** Wall clock, ms since the epoch. May jump (NTP, manual set, no RTC at boot). */
  now(): number;
  /** Monotonic ms since agent start; never jumps. */
  monoMs(): number;
  /** True once the wall clock is known to be good. */
  synced(): boolean;
}
