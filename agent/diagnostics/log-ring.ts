/**
 * The last log lines, in memory, for the county's `logs` command: a gateway far away has no
 * one to read its journal. Fed by the pino logger as one more destination (logger.ts), so no
 * line costs a disk write more; bounded in lines and in characters per line.
 */
import type { Level } from 'pino';

export const RING_LINES = 200;
export const LINE_CHARS = 500;

const LEVELS: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
export const LEVEL_NAMES = Object.keys(LEVELS) as Level[];

/**
 * Credentials written inside a URL (`mqtt://user:pass@host`) are masked before a line is kept:
 * pino's redaction (logger.ts) covers named fields, not text inside a message or an error.
 */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*):[^@\s"/]*@/gi;

export interface LogLine {
  level: number;
  line: string;
}

export class LogRing {
  private readonly lines: (LogLine | undefined)[];
  private next = 0;
  /** Lines seen since start, kept or since pushed out. */
  total = 0;

  constructor(private readonly capacity = RING_LINES) {
    this.lines = new Array<LogLine | undefined>(capacity);
  }

  /** pino's destination contract: one serialized JSON line per call. */
  write(chunk: string): void {
    const text = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
    const level = Number(/"level":(\d+)/.exec(text.slice(0, 40))?.[1] ?? 30);
    const clean = text.replace(URL_PASSWORD, '$1:***@');
    const line = clean.length > LINE_CHARS ? `${clean.slice(0, LINE_CHARS - 3)}...` : clean;
    this.lines[this.next] = { level, line };
    this.next = (this.next + 1) % this.capacity;
    this.total += 1;
  }

  /** The last `count` lines at `level` or above, oldest first. */
  recent(count: number, level: Level = 'trace'): LogLine[] {
    const min = LEVELS[level];
    const out: LogLine[] = [];
    for (let i = 1; i <= this.capacity && out.length < count; i++) {
      const l = this.lines[(this.next - i + this.capacity) % this.capacity];
      if (l === undefined) break;
      if (l.level >= min) out.push(l);
    }
    return out.reverse();
  }
}
