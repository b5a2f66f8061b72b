/**
 * One picture from a camera, on the LAN, with the driver's own HTTP client (and its digest
 * state). One request at a time per camera: Dahua wedges on a few concurrent requests, so
 * pictures asked for together wait their turn in a queue. Each is bounded: a timeout for the
 * whole picture, a byte cap while reading (a 100 MB "JPEG" is cut, never buffered), and a
 * body that does not start as a JPEG (an HTML login page, a JSON error) refused from its
 * first bytes. The Content-Type is not trusted either way (some firmware labels a JPEG
 * application/octet-stream). The whole-JPEG check is the media store's.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CameraHttp } from './camera-http.js';

export interface SnapshotSpec {
  /** The picture's path ({channel} filled in), or how to ask the camera for it (ONVIF GetSnapshotUri: maybe another port). */
  path: string | ((channel: number, signal: AbortSignal) => Promise<{ path: string; port?: number }>);
  timeoutMs: number;
  maxBytes: number;
}

export interface SnapshotCounts {
  taken: number;
  failed: number;
  notJpeg: number;
  tooLarge: number;
  /** The most requests waiting for their turn at once. */
  queuedMax: number;
}

export class CameraSnapshots {
  readonly counts: SnapshotCounts = { taken: 0, failed: 0, notJpeg: 0, tooLarge: 0, queuedMax: 0 };
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly http: CameraHttp,
    private readonly spec: SnapshotSpec | undefined,
    private readonly host: string,
    private readonly stopped: AbortSignal,
  ) {}

  /** A picture of the channel (1-based); rejects with a CAMERA_SNAPSHOT_* code. */
  take(channel = 1): Promise<Buffer> {
    this.waiting += 1;
    this.counts.queuedMax = Math.max(this.counts.queuedMax, this.waiting);
    const turn = this.tail.then(() => this.fetch(channel));
    this.tail = turn.catch(() => undefined).finally(() => (this.waiting -= 1));
    return turn;
  }

  private async fetch(channel: number): Promise<Buffer> {
    const spec = this.spec;
    if (!spec)
      throw this.failed(new GatewayError('CAMERA_SNAPSHOT_FAILED', `${this.host}: its profile names no snapshot`));
    const timeout = AbortSignal.timeout(spec.timeoutMs);
    const signal = AbortSignal.any([this.stopped, timeout]);
    try {
      const where =
        typeof spec.path === 'string'
          ? { path: spec.path.replaceAll('{channel}', String(channel)) }
          : await spec.path(channel, signal);
      const res = await this.http.request(where, signal);
      const jpeg = await readCapped(res, spec.maxBytes, signal, this.host);
      this.counts.taken += 1;
      return jpeg;
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'CAMERA_SNAPSHOT_NOT_JPEG') this.counts.notJpeg += 1;
      if (err instanceof GatewayError && err.code === 'CAMERA_SNAPSHOT_TOO_LARGE') this.counts.tooLarge += 1;
      if (err instanceof GatewayError && err.code.startsWith('CAMERA_SNAPSHOT_')) throw this.failed(err);
      const why = timeout.aborted ? `no whole picture within ${spec.timeoutMs} ms` : (err as Error).message;
      throw this.failed(new GatewayError('CAMERA_SNAPSHOT_FAILED', `${this.host}: ${why}`, { cause: err }));
    }
  }

  private failed(err: GatewayError): GatewayError {
    this.counts.failed += 1;
    return err;
  }
}

/** The body, refused at its first bytes if it is no JPEG, cut (and the socket closed) past the cap or on abort. */
function readCapped(res: IncomingMessage, maxBytes: number, signal: AbortSignal, host: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const fail = (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      res.destroy();
      reject(err);
    };
    const onAbort = () =>
      fail(new GatewayError('CAMERA_SNAPSHOT_FAILED', `${host}: the picture was cut off (timeout)`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      n += chunk.length;
      if (n > maxBytes)
        return fail(new GatewayError('CAMERA_SNAPSHOT_TOO_LARGE', `${host}: snapshot over ${maxBytes} bytes, cut`));
      chunks.push(chunk);
      if (chunks.length === 1 || n - chunk.length < 3) {
        const head = Buffer.concat(chunks).subarray(0, 3);
        const bad = [0xff, 0xd8, 0xff].some((b, i) => i < head.length && head[i] !== b);
        if (bad) {
          const type = res.headers['content-type'] ?? 'no Content-Type';
          const text = head.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
          fail(new GatewayError('CAMERA_SNAPSHOT_NOT_JPEG', `${host}: snapshot is ${type}, starting "${text}"`));
        }
      }
    });
    res.once('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks));
    });
    res.once('error', fail);
  });
}
