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
  private parts: Buffer[] = [];
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
  }

  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    for (;;) {
      const idx = chunk.indexOf(this.splitByte, start);
      if (idx === -1) break;
      this.take(chunk.subarray(start, idx));
      this.finishLine(onLine);
      start = idx + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  private take(piece: Buffer): void {
    if (this.dropping || piece.length === 0) return;
    if (this.length + piece.length > this.maxLength + (this.stripCr ? 1 : 0)) {
      this.dropping = true; // counted when the line ends
      this.parts = [];
      this.length = 0;
      return;
    }
    this.parts.push(piece);
    this.length += piece.length;
  }

  private finishLine(onLine: (line: string) => void): void {
    if (this.dropping) {
      this.counters.overlong += 1;
      this.dropping = false;
      return;
    }
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    if (this.stripCr && bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length === 0) return; // blank lines are not garbage
    if (!isUtf8(bytes)) {
      this.counters.invalidUtf8 += 1;
      return;
    }
    this.counters.lines += 1;
    onLine(bytes.toString('utf8'));
  }
}
