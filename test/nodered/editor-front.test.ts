/**
 * The editor as a stranger on the network meets it, against a real Node-RED child: a flood of
 * logins with 1 MB usernames, 300 wrong passwords from one address, and what the technician on
 * another address (and on site, with the CLI) can still do. Two client addresses on loopback:
 * the stranger connects from 127.0.0.2, the technician from 127.0.0.1.
 */
import { request } from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../core/contracts/event.js';
import { GUESSING_FAILURES } from '../../agent/nodered/login-watch.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { EDITOR_USER, editorConfigFile, editorSupervisor, runCli } from '../helpers/node-red.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const STRANGER = '127.0.0.2';
const TECHNICIAN = '127.0.0.1';

function rig(dataDir: string) {
  const emitted: EventInput[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const sup = editorSupervisor(dataDir, { emitted, logger, over: { restart: { minMs: 100, maxMs: 400 } } });
  cleanup(() => sup.stop());
  return { sup, emitted, lines };
}

interface Answer {
  status: number;
  body: string;
}

/** POST /auth/token from a chosen local address; `body` as given (a string or a Buffer). */
function post(url: string, from: string, body: string | Buffer, chunked = false, path = 'auth/token'): Promise<Answer> {
  const u = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: {
          'content-type': 'application/json',
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body is written: that is the point.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? resolve({ status: 0, body: err.code }) : reject(err),
    );
    req.end(body);
  });
}

const login = (username: string, password: string) =>
  JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password });

async function start(dataDir: string) {
  const r = rig(dataDir);
  r.sup.start();
  await waitUntil(() => r.sup.describe().state === 'running', 30_000, 'Node-RED ready');
  return { ...r, url: r.sup.describe().url!, pid: r.sup.pid! };
}

describe("the editor's front, as a stranger meets it", () => {
  it('a flood of logins with 1 MB usernames is refused unread; the child stays up and the technician logs in', async () => {
    const { sup, emitted, url, pid } = await start(tempDir());
    const huge = 'u'.repeat(1024 * 1024);
    const answers: Answer[] = [];
    // 120 of them, 8 at a time, half with a length and half chunked (no length to refuse on).
    for (let i = 0; i < 120; i += 8)
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 8 }, (_, j) => post(url, STRANGER, login(huge, `wrong-${i + j}`), (i + j) % 2 === 1)),
        )),
      );
    // 413, or the connection closed before the client finished writing its megabyte.
    expect(answers.every((a) => a.status === 413 || a.status === 0)).toBe(true);
    expect(answers.filter((a) => a.status === 413).length).toBeGreaterThan(60);
    // A login body of 5 KB is refused too; a deploy-sized body elsewhere is still Node-RED's to refuse (401, no token).
    expect((await post(url, STRANGER, login('x'.repeat(5000), 'wrong-pass'))).status).toBe(413);
    await new Promise((r) => setTimeout(r, 6000)); // a heartbeat or more
    expect(sup.pid).toBe(pid);
    expect(sup.describe().state).toBe('running');
    expect(emitted.filter((e) => e.type === 'nodered.stopped')).toEqual([]);
    expect(sup.describe().rssBytes!).toBeLessThan(250 * 2 ** 20);
    const ok = await post(url, TECHNICIAN, login(EDITOR_USER.username, EDITOR_USER.password));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toHaveProperty('access_token');
  }, 90_000);

  it('300 wrong passwords from one client block that client only; logged, counted, raised; the CLI unlocks', async () => {
    const dataDir = tempDir();
    const { sup, emitted, lines, url } = await start(dataDir);
    const answers: Answer[] = [];
    // Spelled as Express routes it too (case-insensitive, a trailing slash): all the same login.
    const paths = ['auth/token', 'AUTH/Token', 'auth/token/'];
    for (let i = 0; i < 300; i++)
      answers.push(await post(url, STRANGER, login(EDITOR_USER.username, `guess-${i}`), false, paths[i % 3]));
    const statuses = answers.map((a) => a.status);
    expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]); // wrong password, as Node-RED says it
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(250); // then blocked, no bcrypt spent
    // The technician on another client logs in at once; Node-RED's own list would have locked "tech" everywhere.
    const tech = await post(url, TECHNICIAN, login(EDITOR_USER.username, EDITOR_USER.password));
    expect(tech.status).toBe(200);
    // The stranger, even with the right password, waits out the block. Checked right after a
    // failure just counted (a block of 2 s or more starts then), not after an unknown wait.
    while ((await post(url, STRANGER, login(EDITOR_USER.username, 'one-more-guess'))).status !== 403)
      await new Promise((r) => setTimeout(r, 200));
    const blocked = await post(url, STRANGER, login(EDITOR_USER.username, EDITOR_USER.password));
    expect(blocked.status).toBe(429);

    // Logged (the client and the username tried, within the log's budget), counted, and raised once.
    await waitUntil(() => sup.describe().loginFailures >= 5, 5000, 'the failures counted by the agent');
    const failed = lines.filter((l) => l['msg'] === 'Node-RED editor: failed login');
    expect(failed.length).toBeGreaterThanOrEqual(5);
    expect(failed[0]).toMatchObject({ client: STRANGER, username: EDITOR_USER.username, inRow: 1 });
    const raised = emitted.filter((e) => e.type === 'nodered.login_failed');
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ priority: 'high', data: { client: STRANGER, count: 5 } });

    // The technician on site lifts the block from the command line; the running agent takes it.
    const unlock = await runCli(['editor', 'unlock', '--config', editorConfigFile(tempDir(), dataDir)]);
    expect(unlock.stderr).toBe('');
    expect(unlock.stdout).toContain('unlock: done by the running agent');
    expect(unlock.status).toBe(0);
    await waitUntil(() => lines.some((l) => l['request'] === 'unlock'), 5000, 'the request taken');
    const after = await post(url, STRANGER, login(EDITOR_USER.username, EDITOR_USER.password));
    expect(after.status).toBe(200);
  }, 120_000);

  it('a guess spread over many addresses, one try each, blocks no one but is raised once as login_guessing', async () => {
    const { sup, emitted, url } = await start(tempDir());
    for (let i = 1; i <= GUESSING_FAILURES + 10; i++) {
      const from = `127.0.1.${i}`; // each address fails once: no client is ever blocked
      expect((await post(url, from, login(EDITOR_USER.username, `guess-${i}`))).status).toBe(403);
    }
    await waitUntil(() => sup.describe().loginFailures >= GUESSING_FAILURES + 10, 5000, 'the failures counted');
    expect(emitted.filter((e) => e.type === 'nodered.login_failed')).toEqual([]);
    const raised = emitted.filter((e) => e.type === 'nodered.login_guessing');
    expect(raised).toEqual([
      expect.objectContaining({
        priority: 'high',
        data: { failures: GUESSING_FAILURES, clients: GUESSING_FAILURES, windowSec: 600 },
      }),
    ]);
    expect((await post(url, TECHNICIAN, login(EDITOR_USER.username, EDITOR_USER.password))).status).toBe(200);
  }, 90_000);

  it("a password reset on site replaces the config's at once, and --use-config brings it back", async () => {
    const dataDir = tempDir();
    const { sup, emitted, url, pid } = await start(dataDir);
    const config = editorConfigFile(tempDir(), dataDir);
    const cli = (args: string[], input?: string) => runCli(['editor', ...args, '--config', config], input);
    const short = await cli(['password'], 'short\n');
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('at least 10 characters');
    const long = await cli(['password'], `${'x'.repeat(100)}\n`); // bcrypt would read 72 bytes of it
    expect(long.status).toBe(2);
    expect(long.stderr).toContain('at most 72 bytes (bcrypt ignores the rest), got 100');
    const reset = await cli(['password', '--user', EDITOR_USER.username], 'a-new-password-on-site\n');
    expect(reset.stderr).toBe('');
    expect(reset.status).toBe(0);
    await waitUntil(() => sup.pid !== pid && sup.describe().state === 'running', 30_000, 'the child restarted');
    const url2 = sup.describe().url!;
    expect((await post(url2, TECHNICIAN, login(EDITOR_USER.username, 'a-new-password-on-site'))).status).toBe(200);
    expect((await post(url2, TECHNICIAN, login(EDITOR_USER.username, EDITOR_USER.password))).status).toBe(403);
    // A restart asked for is no crash.
    expect(emitted.filter((e) => e.type === 'nodered.stopped')).toEqual([]);
    expect(url).toMatch(/^http/);

    const pid2 = sup.pid;
    expect((await cli(['password', '--use-config'])).status).toBe(0);
    await waitUntil(() => sup.pid !== pid2 && sup.describe().state === 'running', 30_000, 'the second restart');
    const url3 = sup.describe().url!;
    expect((await post(url3, TECHNICIAN, login(EDITOR_USER.username, EDITOR_USER.password))).status).toBe(200);
  }, 120_000);
});
