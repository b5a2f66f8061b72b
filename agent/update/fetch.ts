/**
 * HTTP(S) for the update fetch: a timeout on every request, redirects followed only on the
 * same host (a bundle URL must not be bounced to somewhere the county did not name), bodies
 * bounded, files streamed to disk chunk by chunk (never one large buffer: the event loop that
 * drives the sirens keeps turning) with their sha256 and size checked as they arrive. The timeout
 * is on silence, not on the whole transfer: on edge-2g (100 kbit/s) a 1 MB file takes 80 s and
 * Node's binary hours, so a request fails only when no byte came for `timeoutMs`.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { GatewayError } from '../../core/kernel/errors.js';

export const FETCH_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 3;

/** Why a fetch failed; not retryable when asking again cannot help (a 404, bytes that do not match). */
const problem = (
  code: 'UPDATE_UNREACHABLE' | 'UPDATE_FILE_MISMATCH',
  message: string,
  retryable: boolean,
  detail: Record<string, boolean> = {},
) => new GatewayError(code, message, { retryable, detail });

/** `<base>/<path>`, each segment escaped (paths are checked by the manifest schema already). */
export function under(base: string, path: string): string {
  const root = base.endsWith('/') ? base : `${base}/`;
  return new URL(path.split('/').map(encodeURIComponent).join('/'), root).toString();
}

/** Aborts a request after `ms` without progress; `poke()` on every chunk, `done()` at the end. */
function silenceTimer(ms: number, what: string) {
  const ctl = new AbortController();
  const abort = () => ctl.abort(problem('UPDATE_UNREACHABLE', `${what}: nothing received for ${ms} ms`, true));
  let timer = setTimeout(abort, ms);
  return {
    signal: ctl.signal,
    poke(): void {
      clearTimeout(timer);
      timer = setTimeout(abort, ms);
    },
    done: () => clearTimeout(timer),
  };
}

async function request(
  url: string,
  timeoutMs: number,
): Promise<{ res: Response; silence: { poke(): void; done(): void } }> {
  let at = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let res: Response;
    const silence = silenceTimer(timeoutMs, at.pathname);
    try {
      res = await fetch(at, { redirect: 'manual', signal: silence.signal });
    } catch (err) {
      silence.done();
      if (err instanceof GatewayError) throw err; // the silence timer's own
      throw problem('UPDATE_UNREACHABLE', `${at.pathname}: ${(err as Error).message}`, true);
    }
    if (res.status < 300 || res.status >= 400) {
      if (res.ok) return { res, silence };
      silence.done();
      await res.body?.cancel();
      // A server error may pass; a 404 or 403 will not.
      throw problem(
        'UPDATE_UNREACHABLE',
        `${at.pathname}: HTTP ${res.status}`,
        res.status >= 500 || res.status === 429,
        { absent: res.status === 404 || res.status === 410 }, // the server has no such file (a bundle of an older make-bundle)
      );
    }
    silence.done();
    await res.body?.cancel();
    const next = new URL(res.headers.get('location') ?? '', at);
    if (next.host !== at.host || !/^https?:$/.test(next.protocol))
      throw problem('UPDATE_UNREACHABLE', `${at.pathname}: redirected to another host (${next.host})`, false);
    at = next;
  }
  throw problem('UPDATE_UNREACHABLE', `${url}: more than ${MAX_REDIRECTS} redirects`, false);
}

/** A small body (the manifest, its signature) as bytes, refused past `max`. */
export async function getBounded(url: string, max: number, timeoutMs = FETCH_TIMEOUT_MS): Promise<Buffer> {
  const { res, silence } = await request(url, timeoutMs);
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body ?? []) {
      silence.poke();
      n += (chunk as Uint8Array).length;
      if (n > max) throw problem('UPDATE_UNREACHABLE', `${new URL(url).pathname}: over ${max} bytes`, false);
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw problem('UPDATE_UNREACHABLE', `${new URL(url).pathname}: ${(err as Error).message}`, true);
  } finally {
    silence.done();
  }
  return Buffer.concat(chunks);
}

/** Streams `url` into `file` (fsynced), checking size and sha256 against the manifest's. */
export async function fetchToFile(
  url: string,
  file: string,
  want: { sha256: string; size: number },
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<void> {
  const { res, silence } = await request(url, timeoutMs);
  const name = new URL(url).pathname;
  const hash = createHash('sha256');
  const fh = await open(file, 'w', 0o600).catch(async (err: unknown) => {
    silence.done();
    await res.body?.cancel();
    throw err;
  });
  let n = 0;
  try {
    for await (const chunk of res.body ?? []) {
      silence.poke();
      const bytes = chunk as Uint8Array;
      n += bytes.length;
      if (n > want.size)
        throw problem('UPDATE_FILE_MISMATCH', `${name}: more bytes than the manifest's ${want.size}`, false);
      hash.update(bytes);
      await fh.write(bytes);
    }
    if (n !== want.size)
      // A short body is a torn transfer more often than a wrong file: worth another try.
      throw problem('UPDATE_FILE_MISMATCH', `${name}: ${n} bytes, the manifest says ${want.size}`, true);
    if (hash.digest('hex') !== want.sha256)
      throw problem('UPDATE_FILE_MISMATCH', `${name}: its sha256 is not the manifest's`, false);
    await fh.sync();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw problem('UPDATE_UNREACHABLE', `${name}: ${(err as Error).message}`, true);
  } finally {
    silence.done();
    await fh.close();
  }
}

/** Runs `fn` up to `tries` times, waiting 1 s, 2 s, 4 s ... between, while its problem says retry. */
export async function withRetry<T>(fn: () => Promise<T>, tries = 4, firstWaitMs = 1000): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries || !(err instanceof GatewayError) || !err.retryable) throw err;
      await new Promise((r) => setTimeout(r, firstWaitMs * 2 ** (i - 1)));
    }
  }
}
