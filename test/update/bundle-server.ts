/** A real HTTP server for update tests: serves a bundle folder's bytes by path and records what was asked for. */
import { createServer, type Server } from 'node:http';

export class BundleServer {
  /** Paths asked for, in order (without the base). */
  readonly requests: string[] = [];
  /** Path under the base -> where a 302 sends it. */
  readonly redirects = new Map<string, string>();
  url = '';
  private readonly server: Server;

  constructor(
    /** Path under the base -> bytes; what is not here is a 404. */
    readonly files: Map<string, Buffer>,
    readonly base = '/bundle/',
  ) {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const rel = path.startsWith(this.base) ? path.slice(this.base.length) : null;
      if (rel !== null) this.requests.push(rel);
      const to = rel === null ? undefined : this.redirects.get(rel);
      if (to) return res.writeHead(302, { location: to }).end();
      const bytes = rel === null ? undefined : this.files.get(rel);
      if (!bytes) return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    this.server.on('error', () => undefined); // a client that goes away mid-body is the agent's to handle
  }

  async start(): Promise<this> {
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', res));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}${this.base}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((res) => this.server.close(() => res()));
  }
}

/** A BundleServer for `files`, started, and closed by the test's cleanup. */
export async function serveBundle(
  files: Map<string, Buffer>,
  cleanup: (fn: () => Promise<void>) => void,
): Promise<BundleServer> {
  const s = await new BundleServer(files).start();
  cleanup(() => s.close());
  return s;
}
