/**
 * Splits a byte stream into text lines, bounded: a line longer than maxLength is dropped
 * (counted) instead of buffered without end, and a line that is not valid UTF-8 is
 * counted, never passed on. (parser-readline has no bound: garbage without a newline
 * would grow memory until the gateway dies.)
 */
import { isUtf8 } from 'node:buffer';

export interface LineCounters {
  lines: number;
  overlong: number;
  invalidUtf8: number;
}

export class LineFramer {
  readonly counters: LineCounters = { lines: 0, overlong: 0, invalidUtf8: 0 };
  /** A line that spans reads is gathered here: one buffer for the framer's life, no per-line copies. */
  private readonly pending: Buffer;
  private length = 0;
  private dropping = false;
  private readonly splitByte: number;
  private readonly stripCr: boolean;

  constructor(
    delimiter: '\n' | '\r\n' | '\r',
    private readonly maxLength: number,
  ) {
    this.splitByte = delimiter === '\r' ? 0x0d : 0x0a;
    this.stripCr = delimiter === '\r\n';
    this.pending = Buffer.allocUnsafe(maxLength + 1);
  }

  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    for (;;) {
      const idx = chunk.indexOf(this.splitByte, start);
      if (idx === -1) break;
      if (this.length === 0 && !this.dropping) this.wholeLine(chunk, start, idx, onLine);
      else {
        this.take(chunk, start, idx);
        this.finishLine(onLine);
      }
      start = idx + 1;
    }
    if (start < chunk.length) this.take(chunk, start, chunk.length);
  }

  /** The common case, a line inside one read: decoded in place, no copies. */
  private wholeLine(chunk: Buffer, start: number, end: number, onLine: (line: string) => void): void {
    if (this.stripCr && end > start && chunk[end - 1] === 0x0d) end -= 1;
    if (end === start) return;
    if (end - start > this.maxLength) {
      this.counters.overlong += 1;
      return;
    }
    const text = chunk.toString('utf8', start, end);
    // Invalid UTF-8 always decodes to U+FFFD; only then is the exact check worth its cost.
    if (text.includes('\uFFFD') && !isUtf8(chunk.subarray(start, end))) {
      this.counters.invalidUtf8 += 1;
      return;
    }
    this.counters.lines += 1;
    onLine(text);
  }

  private take(chunk: Buffer, start: number, end: number): void {
    if (this.dropping || end === start) return;
    if (this.length + (end - start) > this.maxLength + (this.stripCr ? 1 : 0)) {
      this.dropping = true; // counted when the line ends
      this.length = 0;
      return;
    }
    chunk.copy(this.pending, this.length, start, end);
    this.length += end - start;
  }

  private finishLine(onLine: (line: string) => void): void {
    if (this.dropping) {
      this.counters.overlong += 1;
      this.dropping = false;
      return;
    }
    const length = this.length;
    this.length = 0;
    this.wholeLine(this.pending, 0, length, onLine);
  }
}
