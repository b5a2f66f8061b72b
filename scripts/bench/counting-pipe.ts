/**
 * A TCP pipe that counts the bytes each way between a gateway and its broker: what the SIM
 * carries above TCP (MQTT framing, payloads, PUBACKs, pings). Kept apart from
 * scripts/weak-link/tcp-proxy.ts (link faults) on purpose: this one only counts.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class CountingPipe {
  /** Gateway -> broker. */
  up = 0;
  /** Broker -> gateway. */
  down = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly target: { host: string; port: number },
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  get total(): number {
    return this.up + this.down;
  }

  async start(): Promise<string> {
    const server = createServer((client) => {
      const broker = createConnection(this.target);
      for (const s of [client, broker]) {
        this.sockets.add(s);
        s.on('error', this.onError); // a reset mid-test is the peer's business, never a crash
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          broker.destroy();
        });
      }
      client.on('data', (b: Buffer) => {
        this.up += b.length;
        broker.write(b);
      });
      broker.on('data', (b: Buffer) => {
        this.down += b.length;
        client.write(b);
      });
    });
    server.on('error', this.onError);
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    return `mqtt://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

/** host and port of an mqtt:// URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 1883) };
}
