/**
 * A clock for fault tests that runs in real time (timers, reconnects and polls keep working)
 * but whose wall clock can be set like NTP or a technician would, and whose monotonic time
 * can be moved ahead as if minutes had passed. The clock is an edge we own.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../core/kernel/clock.js';

export class JumpingClock implements Clock {
  private readonly start = performance.now();
  private wallOffsetMs = 0;
  private monoOffsetMs = 0;

  now = (): number => Date.now() + this.wallOffsetMs;
  monoMs = (): number => performance.now() - this.start + this.monoOffsetMs;
  synced = (): boolean => true;

  /** The wall clock is set: forward (ms > 0) or back; no time passes. */
  jumpWall(ms: number): void {
    this.wallOffsetMs += ms;
  }

  /** Time passes (both clocks move), without waiting for it. */
  elapse(ms: number): void {
    this.wallOffsetMs += ms;
    this.monoOffsetMs += ms;
  }
}
