/**
 * One client connection through the weak link: the accepted socket, its own connection to the
 * target, and the two flows that carry their bytes over the link's shared wires. Ends and breaks
 * travel the wire too, after the bytes before them: in a blackhole the far side sees neither.
 */
import { connect, type Socket } from 'node:net';
import { type PerDirection } from './profiles.js';
import { type Flow, type Wire } from './wire.js';

export interface Target {
  host: string;
  port: number;
}

/** Sends a TCP RST where the socket is connected; destroys it otherwise. */
function rst(s: Socket | null): void {
  if (!s || s.destroyed) return;
  if (s.connecting || s.pending) s.destroy();
  else s.resetAndDestroy();
}

function finishFor(dest: () => Socket | null): Flow['finish'] {
  return (kind) => {
    const s = dest();
    if (!s || s.destroyed) return;
    if (kind === 'end') s.end();
    else rst(s);
  };
}

export class LinkConnection {
  upstream: Socket | null = null;
  private readonly up: Flow;
  private readonly down: Flow;
  private clientEnded = false;
  private upstreamEnded = false;
  private closed = 0;

  constructor(
    private readonly client: Socket,
    private readonly target: Target,
    private readonly wires: PerDirection<Wire>,
    private readonly onDone: (c: LinkConnection) => void,
  ) {
    this.up = { source: client, dest: () => this.upstream, finish: finishFor(() => this.upstream) };
    this.down = { source: client, dest: () => this.client, finish: finishFor(() => this.client) };
    client.on('error', () => {}); // a broken client shows as 'close' below
    client.on('close', () => {
      if (!this.clientEnded && this.upstream) wires.up.mark(this.up, 'abort');
      this.closedOne(this.upstream ? 1 : 2); // never connected upstream: nothing more will close
    });
  }

  /** Connects to the target (once the link passes: in a blackhole the SYN would go nowhere). */
  connectUpstream(): void {
    if (this.upstream || this.client.destroyed) return;
    const up = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    this.upstream = up;
    this.down.source = up;
    up.on('error', () => {}); // a refused or broken target shows as 'close' below
    up.once('connect', () => {
      this.client.on('data', (b: Buffer) => this.wires.up.push(this.up, b));
      this.client.once('end', () => {
        this.clientEnded = true;
        this.wires.up.mark(this.up, 'end');
      });
      this.wires.up.kick();
    });
    up.on('data', (b: Buffer) => this.wires.down.push(this.down, b));
    up.once('end', () => {
      this.upstreamEnded = true;
      this.wires.down.mark(this.down, 'end');
    });
    up.on('close', () => {
      if (!this.upstreamEnded) this.wires.down.mark(this.down, 'abort');
      this.closedOne(1);
    });
  }

  /** RST both sides now, forgetting what was on the way. */
  reset(): void {
    this.forget();
    rst(this.client);
    rst(this.upstream);
  }

  /** Closes both sides now (FIN where possible), forgetting what was on the way. */
  cut(): void {
    this.forget();
    this.client.destroy();
    this.upstream?.destroy();
  }

  private forget(): void {
    this.wires.up.drop(this.up);
    this.wires.down.drop(this.down);
  }

  /** Done once both sockets closed (the upstream counts as closed when it never existed). */
  private closedOne(n: number): void {
    this.closed += n;
    if (this.closed < 2) return;
    this.forget();
    this.onDone(this);
  }
}
