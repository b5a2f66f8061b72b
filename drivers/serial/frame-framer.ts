/**
 * Splits a byte stream into binary frames: by header and footer, header and fixed length
 * (footer then checked), or fixed length alone. A frame that stalls longer than the
 * inter-byte timeout is a partial frame: counted and dropped. Bytes outside any frame are
 * counted as stray.
 */
import { GatewayError } from '../../core/kernel/errors.js';

export interface FrameOptions {
  header?: number[];
  footer?: number[];
  length?: number;
  maxLength: number;
  interByteTimeoutMs: number;
}

export interface FrameCounters {
  frames: number;
  partial: number;
  overlong: number;
  badFooter: number;
  strayBytes: number;
}

export class FrameFramer {
  readonly counters: FrameCounters = { frames: 0, partial: 0, overlong: 0, badFooter: 0, strayBytes: 0 };
  private buf: number[] = [];
  private inFrame = false;
  private lastByteMs = 0;
  private readonly header: number[];
  private readonly footer: number[];

  constructor(private readonly opts: FrameOptions) {
    this.header = opts.header ?? [];
    this.footer = opts.footer ?? [];
    if (!opts.length && this.footer.length === 0)
      throw new GatewayError('CONFIG_INVALID', 'a frame needs a fixed length or a footer');
  }

  /** Call with the time of arrival; also call `expire(now)` from a timer so a stalled frame is dropped. */
  push(chunk: Uint8Array, nowMs: number, onFrame: (frame: Buffer) => void): void {
    this.expire(nowMs);
    for (const byte of chunk) this.byte(byte, onFrame);
    this.lastByteMs = nowMs;
  }

  expire(nowMs: number): void {
    if (this.buf.length > 0 && nowMs - this.lastByteMs > this.opts.interByteTimeoutMs) {
      if (this.inFrame) this.counters.partial += 1;
      else this.counters.strayBytes += this.buf.length;
      this.reset();
    }
  }

  private reset(): void {
    this.buf = [];
    this.inFrame = false;
  }

  private byte(b: number, onFrame: (frame: Buffer) => void): void {
    const h = this.header;
    if (!this.inFrame) {
      if (h.length === 0) {
        this.inFrame = true;
      } else {
        // Hunt for the header; bytes that cannot start it are stray.
        this.buf.push(b);
        while (this.buf.length > 0 && !h.slice(0, this.buf.length).every((x, i) => x === this.buf[i])) {
          this.buf.shift();
          this.counters.strayBytes += 1;
        }
        if (this.buf.length === h.length) this.inFrame = true;
        return;
      }
    }
    this.buf.push(b);
    const { length, maxLength } = this.opts;
    const f = this.footer;
    if (length !== undefined) {
      if (this.buf.length < length) return;
      const frame = Buffer.from(this.buf);
      this.reset();
      if (f.length > 0 && !f.every((x, i) => frame[frame.length - f.length + i] === x)) {
        this.counters.badFooter += 1;
        return;
      }
      this.counters.frames += 1;
      onFrame(frame);
      return;
    }
    if (this.buf.length >= h.length + f.length && f.every((x, i) => this.buf[this.buf.length - f.length + i] === x)) {
      const frame = Buffer.from(this.buf);
      this.reset();
      this.counters.frames += 1;
      onFrame(frame);
      return;
    }
    if (this.buf.length > maxLength) {
      this.counters.overlong += 1;
      this.reset();
    }
  }
}
