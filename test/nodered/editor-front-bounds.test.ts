/**
 * The front's own bounds, on a real HTTP server without Node-RED behind it (what passes the
 * front is answered "passed"): the table of clients stays at 1,024 however many addresses
 * try, and a client blocked is forgotten first only when it is the least recently seen.
 */
import { createServer, request, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { EditorFront } from '../../flows/runtime/editor-front.js';
import { useCleanups } from '../helpers/lifecycle.js';

const cleanup = useCleanups();

function post(port: number, from: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/auth/token',
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe("the editor front's bounds", () => {
  it('remembers at most 1,024 clients; the oldest are forgotten first', async () => {
    const failures: string[] = [];
    const front = new EditorFront({
      users: [{ username: 'tech', passwordHash: 'hash-of-the-right-one' }],
      compare: async (pw, hash) => pw === 'right-password' && hash === 'hash-of-the-right-one',
      onFailure: (f) => void failures.push(f.client),
    });
    const server: Server = createServer((req, res) => front.handle(req, res, () => res.end('passed')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const wrong = JSON.stringify({ grant_type: 'password', username: 'tech', password: 'wrong-password' });
    const right = JSON.stringify({ grant_type: 'password', username: 'tech', password: 'right-password' });

    // The first client is blocked (5 failures, then refused).
    for (let i = 0; i < 5; i++) expect(await post(port, '127.0.1.1', wrong)).toBe(403);
    expect(await post(port, '127.0.1.1', right)).toBe(429);
    // 1,500 other addresses, one failure each: the table stays bounded.
    for (let i = 0; i < 1500; i++) await post(port, `127.0.${2 + Math.floor(i / 250)}.${1 + (i % 250)}`, wrong);
    expect(front.tracked).toBe(1024);
    expect(failures).toHaveLength(1505);
    // The blocked client was the least recently seen: forgotten, so it may try again.
    expect(await post(port, '127.0.1.1', right)).toBe(200);
    front.unlock();
    expect(front.tracked).toBe(0);
  }, 120_000);
});
