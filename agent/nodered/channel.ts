/**
 * The agent's end of its channel to the Node-RED child: one Unix stream socket carrying frames
 * (core/contracts/frames.ts) instead of fork()'s IPC, so that nothing the flows send is
 * parsed on the agent's heap before it is bounded. Enforced here, on whatever the child sends:
 * - a frame's length is checked at its header (at most MAX_FRAME_FROM_CHILD, 64 KiB): a larger
 *   one, or a body that is not JSON, ends the connection before anything of it is kept;
 * - a rate: at most `framesPerSec` frames and `bytesPerSec` bytes a second (burst: one second's
 *   worth). Over it the socket is paused until the budget refills, so the backlog is what the
 *   kernel holds for the socket plus one read (64 KiB) and one partial frame: a child that
 *   writes faster only fills its own memory, where the RSS bound finds it.
 * Messages then go through isFromChild (the caller's onMessage sees only checked ones).
 */
import type { Socket } from 'node:net';
import { isFromChild, type FromChild, type ToChild } from '../../core/contracts/nodered-ipc.js';
import {
  FrameError,
  FrameReader,
  MAX_FRAME_FROM_CHILD,
  MAX_FRAME_TO_CHILD,
  encodeFrame,
} from '../../core/contracts/frames.js';

export interface ChannelLimits {
  framesPerSec: number;
  bytesPerSec: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = { framesPerSec: 2000, bytesPerSec: 2 * 1024 * 1024 };
/** Sending stops (the event queue waits) while this much is written but not yet taken by the kernel. */
export const SEND_HIGH_WATER = 256 * 1024;

export interface ChannelHandlers {
  onMessage(m: FromChild): void;
  /** A message that failed isFromChild: counted by the caller, the connection kept. */
  onMalformed(): void;
  /** An oversized header or a non-JSON frame: the connection is already destroyed. */
  onViolation(err: FrameError): void;
  /** The connection ended (either side); once. */
  onClose(): void;
  /** Room again to send after send() said to wait. */
  onDrain(): void;
}

export class ChildChannel {
  private readonly reader = new FrameReader(MAX_FRAME_FROM_CHILD);
  private frames: number;
  private bytes: number;
  private refilledAt: number;
  private resumeTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly handlers: ChannelHandlers,
    private readonly limits: ChannelLimits = DEFAULT_CHANNEL_LIMITS,
    private readonly monoMs: () => number = () => performance.now(),
  ) {
    this.frames = limits.framesPerSec;
    this.bytes = limits.bytesPerSec;
    this.refilledAt = monoMs();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => handlers.onDrain());
    // A reset or EPIPE from a child that died: the close that follows says the rest.
    socket.on('error', () => {});
    socket.on('close', () => this.onClosed());
  }

  get connected(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Whether another message may be written now (false: wait for onDrain). */
  get writable(): boolean {
    return this.connected && this.socket.writableLength < SEND_HIGH_WATER;
  }

  /** Writes one message; false when it was not sent (closed, or over MAX_FRAME_TO_CHILD / not serialisable). */
  send(m: ToChild): boolean {
    if (!this.connected) return false;
    let frame: Buffer;
    try {
      frame = encodeFrame(m, MAX_FRAME_TO_CHILD);
    } catch {
      return false;
    }
    this.socket.write(frame);
    return true;
  }

  /** Ends the connection now (the child exits when it sees that). */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.refill();
    let messages: unknown[];
    try {
      messages = this.reader.push(chunk);
    } catch (err) {
      this.socket.destroy();
      if (err instanceof FrameError) this.handlers.onViolation(err);
      else throw err;
      return;
    }
    this.bytes -= chunk.length;
    this.frames -= messages.length;
    for (const m of messages) {
      if (this.closed) return;
      if (isFromChild(m)) this.handlers.onMessage(m);
      else this.handlers.onMalformed();
    }
    if (this.frames <= 0 || this.bytes <= 0) this.throttle();
  }

  private refill(): void {
    const now = this.monoMs();
    const sec = (now - this.refilledAt) / 1000;
    this.refilledAt = now;
    this.frames = Math.min(this.limits.framesPerSec, this.frames + sec * this.limits.framesPerSec);
    this.bytes = Math.min(this.limits.bytesPerSec, this.bytes + sec * this.limits.bytesPerSec);
  }

  /** Over budget: read nothing more until both budgets are positive again. */
  private throttle(): void {
    this.socket.pause();
    const waitSec = Math.max(-this.frames / this.limits.framesPerSec, -this.bytes / this.limits.bytesPerSec, 0.01);
    this.resumeTimer = setTimeout(
      () => {
        this.resumeTimer = null;
        if (this.closed) return;
        this.refill();
        this.socket.resume();
      },
      Math.ceil(waitSec * 1000),
    );
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.handlers.onClose();
  }
}
