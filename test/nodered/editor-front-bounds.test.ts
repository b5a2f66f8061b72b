/**
 * The front's own bounds, on a real HTTP server without Node-RED behind it (what passes the
 * front is answered "passed"), with real requests from many loopback addresses (Linux routes
 * all of 127.0.0.0/8 to lo): the table of clients stays bounded however many addresses try,
 * and a flood of them neither frees a blocked client nor buys fresh allowances without end;
 * at most MAX_PASSWORD_CHECKS compares run at once however many logins come together. IPv6
 * /64 grouping is checked on the key function (only ::1 is bindable here) and over ::1.
 */
import { createServer, request, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientKey } from '../../flows/runtime/client-key.js';
import {
  EditorFront,
  MAX_CLIENTS,
  MAX_PASSWORD_CHECKS,
  MAX_WAITING_CHECKS,
  type FrontOptions,
} from '../../flows/runtime/editor-front.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';

const cleanup = useCleanups();

function post(port: number, from: string, body: string, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
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

const wrong = JSON.stringify({ grant_type: 'password', username: 'tech', password: 'wrong-password' });
const right = JSON.stringify({ grant_type: 'password', username: 'tech', password: 'right-password' });
/** The i-th of many loopback addresses, away from 127.0.0.1 (the test's own). */
const addr = (i: number) => `127.1.${Math.floor(i / 250)}.${1 + (i % 250)}`;

async function serve(compare?: FrontOptions['compare'], host = '127.0.0.1', now?: () => number) {
  const failures: { client: string; inRow: number }[] = [];
  const front = new EditorFront({
    users: [{ username: 'tech', passwordHash: 'hash-of-the-right-one' }],
    compare: compare ?? (async (pw, hash) => pw === 'right-password' && hash === 'hash-of-the-right-one'),
    onFailure: (f) => void failures.push({ client: f.client, inRow: f.inRow }),
    ...(now ? { now } : {}),
  });
  const server: Server = createServer((req, res) => front.handle(req, res, () => res.end('passed')));
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  cleanup(() => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())));
  return { front, failures, port: (server.address() as { port: number }).port };
}

describe("the editor front's bounds", () => {
  it('keys clients by IPv4 address and by IPv6 /64; IPv4-mapped IPv6 is the IPv4 client', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::FFFF:c000:207')).toBe('192.0.2.7');
    // One /64, whatever the host part or spelling.
    const net = '2001:db8:1:2::/64';
    for (const a of ['2001:db8:1:2::1', '2001:0DB8:0001:0002:ffff:1:2:3', '2001:db8:1:2:a::', '2001:db8:1:2::9.8.7.6'])
      expect(clientKey(a)).toBe(net);
    expect(clientKey('2001:db8:1:3::1')).not.toBe(net);
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });

  it('counts an IPv6 client by its /64 (a real request over ::1)', async () => {
    const { failures, port } = await serve(undefined, '::1');
    for (let i = 0; i < 5; i++) expect(await post(port, '::1', wrong, '::1')).toBe(403);
    expect(await post(port, '::1', right, '::1')).toBe(429);
    expect(failures.map((f) => f.client)).toEqual(new Array(5).fill('0:0:0:0::/64'));
  }, 60_000);

  it('a flood of new addresses neither frees a blocked client nor gets a fresh allowance past the table', async () => {
    // The clock stands still: a block (1 s at first) does not run out during the flood.
    const { front, failures, port } = await serve(undefined, '127.0.0.1', () => 1_000_000);
    // The first client is blocked (5 failures, then refused).
    for (let i = 0; i < 5; i++) expect(await post(port, '127.0.1.1', wrong)).toBe(403);
    expect(await post(port, '127.0.1.1', right)).toBe(429);
    // A client that logged in fine holds nothing against it: it makes room first.
    expect(await post(port, '127.0.1.2', right)).toBe(200);
    // 1,500 other addresses, one wrong password each: the table stays bounded...
    const answers: number[] = [];
    for (let i = 0; i < 1500; i++) answers.push(await post(port, addr(i), wrong));
    expect(front.tracked).toBe(MAX_CLIENTS);
    // ...the first MAX_CLIENTS - 1 (the blocked client keeps its place) got their one failure;
    // past the table the newcomers share one allowance: 5 failures, then blocked.
    const fresh = MAX_CLIENTS - 1;
    expect(answers.slice(0, fresh + 5).every((s) => s === 403)).toBe(true);
    expect(answers[fresh + 5]).toBe(429);
    expect(answers.slice(fresh).filter((s) => s === 429).length).toBeGreaterThan(400);
    // The blocked client was the least recently seen, and is still blocked.
    expect(await post(port, '127.0.1.1', right)).toBe(429);
    expect(failures.filter((f) => f.client === '127.0.1.1').map((f) => f.inRow)).toEqual([1, 2, 3, 4, 5]);
    // The CLI's unlock clears it all, the shared record included.
    front.unlock();
    expect(front.tracked).toBe(0);
    expect(await post(port, '127.0.1.1', right)).toBe(200);
    expect(await post(port, addr(1400), right)).toBe(200);
  }, 180_000);

  it(`runs at most ${MAX_PASSWORD_CHECKS} password checks at once; past the queue, 429 at once`, async () => {
    let running = 0;
    let most = 0;
    let checks = 0;
    const release: (() => void)[] = [];
    // Each compare waits until the test lets it go: the concurrency is read inside, not timed.
    const { failures, port } = await serve(async (pw) => {
      checks += 1;
      most = Math.max(most, ++running);
      await new Promise<void>((r) => release.push(r));
      running -= 1;
      return pw === 'right-password';
    });
    const n = 40;
    const answers = Array.from({ length: n }, (_, i) => post(port, addr(i), i === 0 ? right : wrong));
    // The queue fills and everything past it is answered without waiting for a compare.
    const refused = n - MAX_PASSWORD_CHECKS - MAX_WAITING_CHECKS;
    const settled: number[] = [];
    answers.forEach((a) => void a.then((s) => settled.push(s)));
    await waitUntil(() => settled.length >= refused || running > MAX_PASSWORD_CHECKS, 30_000, 'the refusals');
    expect(settled.every((s) => s === 429)).toBe(true);
    expect(running).toBe(MAX_PASSWORD_CHECKS);
    // Let the compares go, one at a time as they come.
    while (checks < MAX_PASSWORD_CHECKS + MAX_WAITING_CHECKS || release.length > 0) {
      const go = release.shift();
      if (go) go();
      await new Promise((r) => setTimeout(r, 5));
    }
    const all = await Promise.all(answers);
    expect(most).toBe(MAX_PASSWORD_CHECKS);
    expect(checks).toBe(MAX_PASSWORD_CHECKS + MAX_WAITING_CHECKS);
    expect(all.filter((s) => s === 429)).toHaveLength(refused);
    expect(all.filter((s) => s === 403)).toHaveLength(
      MAX_PASSWORD_CHECKS + MAX_WAITING_CHECKS - (all[0] === 200 ? 1 : 0),
    );
    // A refusal for a busy front is no failed login.
    expect(failures).toHaveLength(all.filter((s) => s === 403).length);
  }, 120_000);
});
