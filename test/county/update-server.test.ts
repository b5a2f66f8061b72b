/**
 * The county's update server (scripts/county/update-server.ts) against hostile and mistaken
 * requests, on a real bundle folder: a path with `..`, an absolute one, a link in the folder
 * that leads outside, a file the manifest does not name, a delta folder without an unchanged
 * file, an offset past the end, a huge offset, a request that is not JSON or not a request:
 * each is answered with a header naming its code (the gateway reads it with the same decoder),
 * never with bytes from outside the folder, never a throw. A good request gets its bytes. The
 * built script's command line (npm run build first) refuses a wrong one with exit 2.
 */
import { spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeUpdateChunk } from '../../core/contracts/update-chunk.js';
import { readBundle, UpdateServer } from '../../scripts/county/update-server.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { bundle, FILES, writeBundle } from '../update/hand-bundle.js';

const tempDir = useTempDirs();

const request = (o: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ v: 1, version: '9.9.9', path: 'lib/data.txt', o: 0, len: 16_384, ...o }));

async function answer(server: UpdateServer, payload: Buffer) {
  return decodeUpdateChunk(await server.answer(payload, 'gw-x'));
}

describe('the update server', () => {
  it('answers a good request with the bytes, and every bad one with a code', async () => {
    const outside = tempDir();
    writeFileSync(join(outside, 'secret'), 'not for gateways');
    const files = bundle('9.9.9', {}, { ...FILES, 'lib/link.txt': Buffer.from('x') });
    files.delete('lib/link.txt'); // the manifest names it; the folder holds a link to outside instead
    const dir = writeBundle(tempDir(), files);
    symlinkSync(join(outside, 'secret'), join(dir, 'lib/link.txt'));
    const server = new UpdateServer([readBundle(dir)]);
    const refused: string[] = [];
    server.on('refused', (_gw, code) => refused.push(code));
    server.on('error', (err) => refused.push(`error ${err.message}`));

    const good = await answer(server, request({ o: 16_384 }));
    expect(good.header).toEqual({ v: 1, version: '9.9.9', path: 'lib/data.txt', o: 16_384, size: 200_000 });
    expect(good.data).toEqual(FILES['lib/data.txt'].subarray(16_384, 32_768));
    const last = await answer(server, request({ o: 196_608 }));
    expect(last.data.length).toBe(200_000 - 196_608);
    const manifest = await answer(server, request({ path: 'manifest.json' }));
    expect(manifest.header.sha256).toMatch(/^[0-9a-f]{64}$/); // no manifest names its own bytes

    const cases: [Record<string, unknown> | string, string][] = [
      [{ path: '../../../etc/passwd' }, 'BAD_PATH'],
      [{ path: 'lib/../../secret' }, 'BAD_PATH'],
      [{ path: '/etc/passwd' }, 'BAD_PATH'],
      [{ path: 'lib/link.txt' }, 'BAD_PATH'],
      [{ path: 'lib/other.txt' }, 'NOT_IN_BUNDLE'],
      [{ version: '1.0.0' }, 'UNKNOWN_VERSION'],
      [{ o: 200_001 }, 'BAD_OFFSET'],
      [{ o: 2 ** 53 }, 'BAD_REQUEST'],
      [{ len: 10 ** 9 }, 'BAD_REQUEST'],
      [{ extra: 1 }, 'BAD_REQUEST'],
      ['not json', 'BAD_REQUEST'],
      ['[1,2]', 'BAD_REQUEST'],
    ];
    for (const [req, code] of cases) {
      const payload = typeof req === 'string' ? Buffer.from(req) : request(req);
      const a = await answer(server, payload);
      expect(a.header.error?.code, JSON.stringify(req)).toBe(code);
      expect(a.data.length).toBe(0);
    }
    expect(refused).toEqual(cases.map(([, code]) => code));
    expect(server.counts).toMatchObject({ served: 3, refused: cases.length });
  });

  it('serves a delta folder: what it lacks is NOT_IN_BUNDLE, what it has is served', async () => {
    const files = bundle('9.9.9');
    files.delete('lib/data.txt'); // unchanged since the installed release: make-bundle's -delta leaves it out
    const server = new UpdateServer([readBundle(writeBundle(tempDir(), files))]);
    expect((await answer(server, request({}))).header.error?.code).toBe('NOT_IN_BUNDLE');
    const js = await answer(server, request({ path: 'dist/agent/new.js' }));
    expect(js.data).toEqual(FILES['dist/agent/new.js']);
  });

  it('the command line: a wrong one exits 2 naming the problem, before connecting anywhere', () => {
    const dir = tempDir();
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['dist/scripts/county/update-server.js', ...args], { encoding: 'utf8' });
    const none = run('--url', 'mqtt://127.0.0.1:1');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('at least one --bundle');
    const notOne = run('--bundle', dir);
    expect(notOne.status).toBe(2);
    expect(notOne.stderr).toContain(`--bundle ${dir}: not a bundle folder`);
    const unknown = run('--bundel', dir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bundel'");
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stderr).toContain('usage: update-server --bundle DIR');
  });
});
