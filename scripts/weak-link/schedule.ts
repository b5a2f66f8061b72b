/**
 * Runs a profile's schedule of outages against a link, compressed by `timeScale` (60: a minute
 * takes a second). Transition times are computed from the start, not from the previous timer, so a
 * late timer on a busy machine does not shift the phases after it.
 */
import { type LinkSchedule, type WeakLinkMode } from './profiles.js';

interface Transition {
  atMs: number;
  mode: WeakLinkMode;
}

/** The mode changes within one run of the phases (or one period), in time order. */
export function transitions(schedule: LinkSchedule): Transition[] {
  const out: Transition[] = [];
  schedule.phases.forEach((ph, i) => {
    out.push({ atMs: ph.atMs, mode: ph.mode });
    const next = schedule.phases[i + 1];
    if (ph.mode !== 'pass' && next?.atMs !== ph.atMs + ph.forMs) out.push({ atMs: ph.atMs + ph.forMs, mode: 'pass' });
  });
  return out;
}

export class ScheduleRunner {
  private timer: NodeJS.Timeout | null = null;
  private readonly steps: Transition[];
  private cycle = 0;
  private index = 0;
  private startedAt = 0;

  constructor(
    private readonly schedule: LinkSchedule,
    private readonly timeScale: number,
    private readonly apply: (mode: WeakLinkMode) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(timeScale > 0)) throw new Error(`timeScale must be > 0 (got ${timeScale})`);
    this.steps = transitions(schedule);
  }

  start(): void {
    this.startedAt = this.now();
    this.cycle = this.index = 0;
    this.next();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** When (link clock, ms) the next transition is due, or null when the schedule has run out. */
  private dueAt(): number | null {
    const step = this.steps[this.index];
    if (!step) return null;
    const period = this.schedule.periodMs ?? 0;
    return this.startedAt + (this.cycle * period + step.atMs) / this.timeScale;
  }

  private next(): void {
    this.stop();
    for (;;) {
      const due = this.dueAt();
      if (due === null) return;
      const wait = due - this.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.next(), wait);
        return;
      }
      this.apply(this.steps[this.index]!.mode);
      this.index += 1;
      if (this.index >= this.steps.length && this.schedule.periodMs) {
        this.index = 0;
        this.cycle += 1;
      }
    }
  }
}
