/**
 * How the county tools say that a message could not be read: one line with its topic and why,
 * within a budget. Whoever can publish to the broker chooses how many bad messages arrive and
 * what their topic says, so the log must neither flood (at most `perWindow` lines a window,
 * then one line saying how many were not shown) nor carry control characters a terminal obeys.
 */

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Text from the wire made safe for one log line: control characters escaped, at most `max` characters. */
export function printable(text: string, max = 200): string {
  const safe = text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return safe.length > max ? `${safe.slice(0, max)}...` : safe;
}

export interface LogBudgetOptions {
  perWindow?: number;
  windowMs?: number;
  now?: () => number;
}

/** At most `perWindow` lines every `windowMs` (10 every 10 s); the rest counted and said once. */
export class LogBudget {
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private windowStart = -Infinity;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly write: (line: string) => void,
    opts: LogBudgetOptions = {},
  ) {
    this.perWindow = opts.perWindow ?? 10;
    this.windowMs = opts.windowMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  line(text: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = t;
      this.used = 0;
    }
    if (this.used < this.perWindow) {
      this.used += 1;
      this.write(text);
    } else this.suppressed += 1;
  }

  /** Says how many lines were held back since the last one shown (on a new window, and at the end). */
  flush(): void {
    if (this.suppressed === 0) return;
    this.write(
      `(${this.suppressed} more like it not shown: at most ${this.perWindow} every ${this.windowMs / 1000} s)`,
    );
    this.suppressed = 0;
  }
}

/** The line the county tools print for a message they could not read. */
export const unreadableLine = (topic: string, reason: string): string =>
  `unreadable message on ${printable(topic)}: ${printable(reason, 300)}`;
