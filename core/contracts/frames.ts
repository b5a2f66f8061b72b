/**
 * The framing on the agent <-> Node-RED channel (a Unix stream socket, both ways): each message
 * is a 4-byte big-endian length, then that many bytes of UTF-8 JSON. It replaces fork()'s IPC,
 * which Node core parses whole on the agent's heap before our code sees it: here the length is
 * read first and a frame over the direction's maximum ends the connection at its header, so no
 * oversized frame is ever buffered or parsed. Shared by both sides (contracts is importable by
 * the agent's runtime layer and by flows/).
 */
import { GatewayError } from '../kernel/errors.js';

export const FRAME_HEADER_BYTES = 4;
/**
 * child -> agent: the largest legitimate message is a request (an alert's text, an output
 * command) or a log line, a few KiB; 64 KiB leaves room and bounds what a flow can make the
 * agent hold (one partial frame) and parse (one frame at a time) on its 64 MB heap.
 */
export const MAX_FRAME_FROM_CHILD = 64 * 1024;
/**
 * agent -> child: an event with its data (bounded by the ingress checks), a reply, or `init`
 * with the options; 1 MiB. An event over it is not sent (counted as dropped).
 */
export const MAX_FRAME_TO_CHILD = 1024 * 1024;

/** CHANNEL_FRAME, with why (detail.reason): 'oversized' or 'garbage'. */
export class FrameError extends GatewayError {
  constructor(
    readonly reason: 'oversized' | 'garbage',
    message: string,
  ) {
    super('CHANNEL_FRAME', message, { detail: { reason } });
  }
}

/** One message as a frame, or a FrameError('oversized') when its JSON is over max bytes. */
export function encodeFrame(message: unknown, max: number): Buffer {
  const json = JSON.stringify(message);
  if (json === undefined) throw new FrameError('garbage', 'not JSON-serialisable');
  const length = Buffer.byteLength(json);
  if (length > max) throw new FrameError('oversized', `frame of ${length} bytes over the limit of ${max}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

/**
 * Cuts a byte stream into frames and parses each. Holds at most one partial frame (header
 * included), never more than max + 4 bytes: the length is checked as soon as the header is
 * complete, before any of the body is kept. After an error it takes nothing more (the caller
 * drops the connection).
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need: number | null = null; // the current frame's body length, once its header is in
  private failed: FrameError | null = null;

  constructor(private readonly max: number) {}

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * The messages completed by this chunk, in order, parsed. Throws a FrameError on an oversized
   * header or a body that is not JSON; every call after that throws it again.
   */
  push(chunk: Buffer): unknown[] {
    if (this.failed) throw this.failed;
    const out: unknown[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.need === null) {
        const take = Math.min(FRAME_HEADER_BYTES - this.pendingBytes, chunk.length - offset);
        this.hold(chunk.subarray(offset, offset + take));
        offset += take;
        if (this.pendingBytes < FRAME_HEADER_BYTES) break;
        const length = this.drain().readUInt32BE(0);
        if (length > this.max)
          throw (this.failed = new FrameError(
            'oversized',
            `frame header says ${length} bytes, over the limit of ${this.max}`,
          ));
        this.need = length;
      }
      const take = Math.min(this.need - this.pendingBytes, chunk.length - offset);
      this.hold(chunk.subarray(offset, offset + take));
      offset += take;
      if (this.pendingBytes < this.need) break;
      const body = this.drain();
      this.need = null;
      try {
        out.push(JSON.parse(body.toString('utf8')) as unknown);
      } catch {
        throw (this.failed = new FrameError('garbage', `a frame of ${body.length} bytes is not JSON`));
      }
    }
    return out;
  }

  private hold(part: Buffer): void {
    if (part.length === 0) return;
    // A copy: the chunk's memory belongs to the socket's read and may be large.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private drain(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }
}
