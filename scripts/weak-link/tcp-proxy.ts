/**
 * A TCP proxy that makes a link weak on purpose, for the demo, tests and the weak-link lab
 * (this kernel has no netem). Modes: pass, cut (drop every connection, refuse new ones),
 * stall (accept, forward nothing: a dead cell that TCP has not noticed yet); plus a fixed
 * delay and a bandwidth cap per direction. A stall can take one direction only: `down`
 * (server to client) drops the broker's PUBACKs and PINGRESPs while the gateway's
 * publishes still arrive, i.e. acknowledgements that never come.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '../brokers/free-port.js';

export type LinkMode = 'pass' | 'cut' | 'stall';
/** `up`: client to server (gateway to broker); `down`: server to client. */
export type Direction = 'up' | 'down';

export interface ProxyOptions {
  targetHost?: string;
  targetPort: number;
  listenPort?: number;
}

export class TcpProxy {
  port = 0;
  mode: LinkMode = 'pass';
  /** While stalled, which directions drop their bytes. */
  stalled: ReadonlySet<Direction> = new Set();
  /** Bytes dropped by stalls, per direction (a test can check its stall really bit). */
  readonly dropped: Record<Direction, number> = { up: 0, down: 0 };
  delayMs = 0;
  /** Bytes per second per direction; 0 = unlimited. */
  rateBytesPerSec = 0;
  connections = 0;
  /** The last error of the listening socket after it started (a proxy must not crash its host). */
  lastError: string | null = null;
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();

  constructor(private readonly opts: ProxyOptions) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = this.opts.listenPort ?? (await freePort());
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => {
        this.server!.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => (this.lastError = err.message));
    return this;
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    this.connections += 1;
    const upstream = connect(this.opts.targetPort, this.opts.targetHost ?? '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    this.pipe(client, upstream, 'up');
    this.pipe(upstream, client, 'down');
  }

  /** Forwards with the current delay and rate; drops bytes while stalled. */
  private pipe(from: Socket, to: Socket, dir: Direction): void {
    let nextFree = 0; // when the throttled "wire" is free again
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'stall' && this.stalled.has(dir)) {
        this.dropped[dir] += chunk.length;
        return;
      }
      const now = Date.now();
      let at = now + this.delayMs;
      if (this.rateBytesPerSec > 0) {
        nextFree = Math.max(nextFree, now) + (chunk.length / this.rateBytesPerSec) * 1000;
        at = Math.max(at, nextFree);
      }
      if (at <= now) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), at - now);
    });
  }

  /** Drops every connection now and refuses new ones until restore(). */
  cut(): void {
    this.mode = 'cut';
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /**
   * Forwards nothing in the given directions (both by default); connections stay open. Bytes
   * are dropped, not held: restoring mid-connection resumes a broken stream, which the peers
   * must detect like any corrupt link.
   */
  stall(directions: readonly Direction[] = ['up', 'down']): void {
    this.mode = 'stall';
    this.stalled = new Set(directions);
  }

  restore(): void {
    this.mode = 'pass';
    this.stalled = new Set();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}
