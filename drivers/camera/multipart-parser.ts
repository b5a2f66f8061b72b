/**
 * A bounded parser for a camera's endless multipart stream (Hikvision multipart/mixed,
 * Dahua multipart/x-mixed-replace). Cameras get the framing wrong in known ways, and it
 * tolerates them: a Content-Length that is wrong (the next boundary wins over it), `\n`
 * instead of `\r\n`, no space after `Content-Length:`, missing CRLFs around the boundary.
 *
 * It never holds more than `maxPartBytes` of a body plus a header block: a part that grows
 * past the cap (a 100 MB "JPEG", a part that never ends) is cut, counted, and its bytes are
 * thrown away until the next boundary. Garbage between parts is skipped and counted.
 */

export interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

export interface MultipartLimits {
  /** The largest body kept; a larger part is cut and skipped. */
  maxPartBytes: number;
  /** The largest header block; a larger one is malformed. */
  maxHeaderBytes: number;
}

export interface MultipartCounters {
  parts: number;
  /** Parts cut for their size (over maxPartBytes), whatever their Content-Length said. */
  oversize: number;
  /** Header blocks that were too long or unreadable, and bytes between parts that were not a boundary. */
  malformed: number;
  /** Bytes thrown away (oversize bodies, garbage). */
  skippedBytes: number;
}

/** The boundary named in a Content-Type (`multipart/mixed; boundary=boundary`), or null if it is not multipart. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return null;
  const m = /boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  // Some firmware writes the dashes into the parameter too; the stream has them once.
  return b ? b.replace(/^--/, '') : null;
}

type State =
  | { kind: 'seek' }
  | { kind: 'headers' }
  | { kind: 'body'; headers: Record<string, string>; length: number | null }
  | { kind: 'skip' };

export class MultipartParser {
  readonly counters: MultipartCounters = { parts: 0, oversize: 0, malformed: 0, skippedBytes: 0 };
  private buf: Buffer = Buffer.alloc(0);
  private state: State = { kind: 'seek' };
  private readonly delim: Buffer;

  constructor(
    boundary: string,
    private readonly limits: MultipartLimits,
    private readonly onPart: (part: Part) => void,
    /** Told once per cut or malformed block (the owner counts and logs once). */
    private readonly onProblem: (kind: 'oversize' | 'malformed', detail: string) => void,
  ) {
    this.delim = Buffer.from(`--${boundary}`);
  }

  /** The bytes held right now (bounded by the limits, whatever the camera sends). */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.step());
  }

  /** One move of the state machine; false when it needs more bytes. */
  private step(): boolean {
    switch (this.state.kind) {
      case 'seek':
      case 'skip':
        return this.seek();
      case 'headers':
        return this.readHeaders();
      case 'body':
        return this.readBody(this.state.headers, this.state.length);
    }
  }

  private seek(): boolean {
    const at = this.buf.indexOf(this.delim);
    if (at < 0) {
      // Keep what could be the start of a boundary split across chunks.
      const keep = Math.min(this.buf.length, this.delim.length - 1);
      this.discard(this.buf.length - keep, this.state.kind === 'seek');
      return false;
    }
    this.discard(at, this.state.kind === 'seek' && this.buf.subarray(0, at).toString('latin1').trim() !== '');
    const after = this.buf.subarray(this.delim.length);
    if (after.length < 2) return false;
    if (after[0] === 0x2d && after[1] === 0x2d) {
      // The closing boundary: what follows (if anything) is a new stream's business.
      this.buf = after.subarray(2);
      this.state = { kind: 'seek' };
      return true;
    }
    this.buf = after;
    this.state = { kind: 'headers' };
    return true;
  }

  private discard(n: number, garbage: boolean): void {
    if (n <= 0) return;
    this.counters.skippedBytes += n;
    if (garbage) {
      this.counters.malformed += 1;
      this.onProblem('malformed', `${n} bytes between parts`);
    }
    this.buf = this.buf.subarray(n);
  }

  private readHeaders(): boolean {
    // Leading line ends left from the boundary line; tolerate none at all.
    let start = 0;
    while (start < this.buf.length && (this.buf[start] === 0x0d || this.buf[start] === 0x0a)) start += 1;
    // Dropped now, not held: a camera sending line ends forever must not grow the buffer.
    this.buf = this.buf.subarray(start);
    start = 0;
    const crlf = this.buf.indexOf('\r\n\r\n', start);
    const lf = this.buf.indexOf('\n\n', start);
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    const blockEnd = end < 0 ? -1 : end + (end === crlf ? 4 : 2);
    if (end < 0) {
      if (this.buf.length - start > this.limits.maxHeaderBytes) return this.malformedPart('header block too long');
      // No blank line before the next boundary: this part has no header block to read.
      if (this.buf.indexOf(this.delim, start) >= 0) return this.malformedPart('no header block');
      return false;
    }
    if (end - start > this.limits.maxHeaderBytes) return this.malformedPart('header block too long');
    const headers: Record<string, string> = {};
    for (const line of this.buf.subarray(start, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.buf = this.buf.subarray(blockEnd);
    const cl = headers['content-length'];
    const length = cl !== undefined && /^\d{1,12}$/.test(cl) ? Number(cl) : null;
    if (length !== null && length > this.limits.maxPartBytes) return this.cut(`Content-Length ${length}`);
    this.state = { kind: 'body', headers, length };
    return true;
  }

  private readBody(headers: Record<string, string>, length: number | null): boolean {
    const next = this.buf.indexOf(this.delim);
    const limit = this.limits.maxPartBytes;
    if (length !== null && this.buf.length > length && (next < 0 || next >= length)) {
      // Content-Length bytes and one more are here (cameras write the line end with the body):
      // deliver now, an event must not wait for the next part; unless what follows shows the
      // length was short (text that is not a line end or a boundary).
      const rest = this.buf.subarray(length, length + this.delim.length + 2).toString('latin1');
      const trimmed = rest.replace(/^[\r\n]+/, '');
      const delim = this.delim.toString('latin1');
      if (delim.startsWith(trimmed) || trimmed.startsWith(delim)) return this.deliver(headers, length, length);
    }
    if (next >= 0) {
      // The boundary ends the part whatever its Content-Length said; strip the line end before it.
      let end = next;
      if (end > 0 && this.buf[end - 1] === 0x0a) end -= 1;
      if (end > 0 && this.buf[end - 1] === 0x0d) end -= 1;
      if (end > limit) return this.cut(`${end} bytes before the boundary`, next);
      return this.deliver(headers, end, next);
    }
    if (this.buf.length > limit + this.delim.length + 2) return this.cut(`over ${limit} bytes without a boundary`);
    return false;
  }

  private deliver(headers: Record<string, string>, bodyEnd: number, consumed: number): boolean {
    const body = Buffer.from(this.buf.subarray(0, bodyEnd)); // a copy: the stream's buffer is reused
    this.buf = this.buf.subarray(consumed);
    this.state = { kind: 'seek' };
    this.counters.parts += 1;
    this.onPart({ headers, body });
    return true;
  }

  /** Drops the part in hand (up to `upTo`, else all but a possible boundary start) and skips to the next boundary. */
  private cut(detail: string, upTo?: number): boolean {
    this.counters.oversize += 1;
    this.onProblem('oversize', detail);
    const n = upTo ?? Math.max(0, this.buf.length - (this.delim.length - 1));
    this.counters.skippedBytes += n;
    this.buf = this.buf.subarray(n);
    this.state = { kind: 'skip' };
    return true;
  }

  private malformedPart(detail: string): boolean {
    this.counters.malformed += 1;
    this.onProblem('malformed', detail);
    this.state = { kind: 'skip' };
    return true;
  }
}
