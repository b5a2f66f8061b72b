/**
 * Real TCP peers for the weak-link tests: a target server that records what each connection
 * receives (and when), optionally echoing it, and a client that records what it receives.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Received {
  chunks: Buffer[];
  bytes: number;
  /** performance.now() of each chunk's arrival. */
  times: number[];
  closed: boolean;
  error: string | null;
}

function record(s: Socket): Received {
  const r: Received = { chunks: [], bytes: 0, times: [], closed: false, error: null };
  s.on('data', (b: Buffer) => {
    r.chunks.push(b);
    r.bytes += b.length;
    r.times.push(performance.now());
  });
  s.on('error', (err: NodeJS.ErrnoException) => (r.error = err.code ?? err.message));
  s.on('close', () => (r.closed = true));
  return r;
}

export interface Target {
  port: number;
  /** One entry per accepted connection, in order. */
  conns: Received[];
  sockets: Socket[];
  close(): Promise<void>;
}

/** A target on a free loopback port; `echo` sends every byte back. */
export async function startTarget(opts: { echo?: boolean } = {}): Promise<Target> {
  const conns: Received[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    conns.push(record(s));
    if (opts.echo) s.on('data', (b: Buffer) => s.write(b));
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    port,
    conns,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Client {
  socket: Socket;
  got: Received;
}

/** A client connected to `port` (the link's side), recording what it receives. */
export async function connectClient(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  const got = record(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, got };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
