/**
 * The update fetch times out on silence, not on the whole transfer: on a weak link a file takes
 * minutes while bytes keep coming. A real HTTP server dribbles a file in chunks; the timeout is
 * shortened so the test takes seconds.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchToFile } from '../../agent/update/fetch.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

const CHUNKS = 10;
const body = Buffer.alloc(CHUNKS * 1000, 7);
const want = { sha256: createHash('sha256').update(body).digest('hex'), size: body.length };

/** Serves `body` in CHUNKS parts, `gapMs` apart, the last after `lastGapMs`. */
async function dribbling(gapMs: number, lastGapMs = gapMs): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    let i = 0;
    const next = () => {
      res.write(body.subarray(i * 1000, (i + 1) * 1000));
      i += 1;
      if (i === CHUNKS) res.end();
      else setTimeout(next, i === CHUNKS - 1 ? lastGapMs : gapMs);
    };
    next();
  });
  server.on('error', (err) => console.error('test server', err));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup(() => new Promise<void>((r) => server.close(() => r())));
  cleanup(() => server.closeAllConnections());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/node/bin/node`;
}

describe('update fetch timeout', () => {
  it('takes a file that arrives slowly for longer than the timeout, as long as bytes keep coming', async () => {
    const url = await dribbling(150); // ~1.4 s in all, never 400 ms without a byte
    const file = join(tempDir(), 'node');
    await fetchToFile(url, file, want, 400);
    expect(readFileSync(file).equals(body)).toBe(true);
  });

  it('gives up when nothing comes for the timeout, as a retryable UPDATE_UNREACHABLE', async () => {
    const url = await dribbling(50, 2000);
    const err = await fetchToFile(url, join(tempDir(), 'node'), want, 400).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UPDATE_UNREACHABLE', retryable: true });
    expect((err as Error).message).toMatch(/nothing received for 400 ms/);
  });
});
