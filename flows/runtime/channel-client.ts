/**
 * The child's end of the channel to the agent (framing in core/contracts/frames.ts): fd 3 when
 * the agent spawned it (`--channel-fd 3`, one end of a socket pair), or the agent's socket when
 * the flows' own unit started it (`--socket PATH`). There is no IPC fd: `process.send` does not
 * exist here, so a flow cannot reach the agent except through these bounded frames.
 */
import { connect, Socket } from 'node:net';
import { FrameReader, MAX_FRAME_FROM_CHILD, MAX_FRAME_TO_CHILD, encodeFrame } from '../../core/contracts/frames.js';
import type { FromChild, ToChild } from './protocol.js';

export interface ChildArgs {
  channel: { fd: number } | { path: string };
  /** Overrides the options' userDir: where this process finds it (/proc/self/cwd when spawned by the agent). */
  userDir: string | null;
}

export function parseArgs(argv: string[]): ChildArgs | null {
  let channel: ChildArgs['channel'] | null = null;
  let userDir: string | null = null;
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) return null;
    if (k === '--channel-fd' && /^\d+$/.test(v)) channel = { fd: Number(v) };
    else if (k === '--socket') channel = { path: v };
    else if (k === '--user-dir') userDir = v;
    else return null;
  }
  return channel ? { channel, userDir } : null;
}

export class AgentChannel {
  private socket!: Socket;
  private readonly reader = new FrameReader(MAX_FRAME_TO_CHILD);
  private heard = false;

  /**
   * With a path (the flows' unit), a connection refused or closed before the agent said
   * anything is tried again every second: the agent may not be up yet, or be waiting out a
   * restart backoff; the process stays small meanwhile (Node-RED is loaded only after init).
   * Once the agent has spoken, losing it ends the child (onClose).
   */
  constructor(
    private readonly where: ChildArgs['channel'],
    private readonly onMessage: (m: ToChild) => void,
    private readonly onClose: (why: string) => void,
  ) {
    this.open();
  }

  private open(): void {
    const where = this.where;
    const socket = 'fd' in where ? new Socket({ fd: where.fd, readable: true, writable: true }) : connect(where.path);
    this.socket = socket;
    let ended = false;
    const end = (why: string): void => {
      if (ended) return;
      ended = true;
      socket.destroy();
      if (!this.heard && 'path' in where) setTimeout(() => this.open(), 1000);
      else this.onClose(why);
    };
    socket.on('data', (chunk: Buffer) => {
      this.heard = true;
      let messages: unknown[];
      try {
        messages = this.reader.push(chunk);
      } catch (err) {
        end(`a bad frame from the agent: ${String(err)}`);
        return;
      }
      for (const m of messages) this.onMessage(m as ToChild);
    });
    socket.on('error', (err) => end(`channel error: ${err.message}`));
    socket.on('close', () => end('the agent went away'));
  }

  /** Sends if it fits: a message over MAX_FRAME_FROM_CHILD would make the agent drop us, so it is not sent. */
  send(m: FromChild): void {
    if (this.socket.destroyed) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(m, MAX_FRAME_FROM_CHILD);
    } catch {
      return;
    }
    this.socket.write(frame);
  }
}
