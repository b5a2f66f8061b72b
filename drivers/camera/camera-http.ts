/**
 * GET requests to one camera over node:http, answering its auth challenge: the event stream
 * uses it, and a snapshot fetch can share it (and its digest state: one `nc` sequence a camera).
 * A 401 to a request that carried credentials is a refused password, never retried here: the
 * driver waits long before it tries again, so the camera does not lock its account. A 401 to
 * one without (or with a stale nonce) is the challenge, answered once at once.
 */
import type { IncomingMessage } from 'node:http';
import { http } from '../../core/kernel/lazy-builtins.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { DigestSession, parseChallenge, type Credentials } from './http-auth.js';

export interface CameraHttpOptions {
  host: string;
  port: number;
  creds: Credentials;
  /** Until the response headers arrive (a camera that accepts and says nothing). */
  headersTimeoutMs: number;
}

/** One request: GET by default; a POST carries its body (an ONVIF SOAP envelope) and may go to another port. */
export interface CameraRequest {
  path: string;
  method?: 'GET' | 'POST';
  body?: string;
  contentType?: string;
  port?: number;
  /** Until the response headers arrive, when not the client's (a long poll waits longer). */
  headersTimeoutMs?: number;
  /** Statuses handed back with their body unread besides 200 (a SOAP fault comes as 400 or 500). */
  accept?: readonly number[];
}

export class CameraHttp {
  readonly session: DigestSession;
  /** Logins the camera refused (401 to a request with credentials), for describe(). */
  refusals = 0;

  constructor(private readonly opts: CameraHttpOptions) {
    this.session = new DigestSession(opts.creds);
  }

  /** A 200 response, its body unread; throws a GatewayError for anything else. */
  get(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    return this.request({ path }, signal);
  }

  /** A response of status 200 (or one in `accept`), its body unread; throws a GatewayError for anything else. */
  async request(req: CameraRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const first = await this.once(req, signal);
    if (first.status !== 'challenged') return first.res;
    const second = await this.once(req, signal);
    if (second.status === 'ok') return second.res;
    this.refusals += 1;
    throw new GatewayError('CAMERA_AUTH_REFUSED', `${this.opts.host} refused user "${this.opts.creds.user}"`, {
      detail: { status: 401 },
    });
  }

  private async once(
    req: CameraRequest,
    signal: AbortSignal,
  ): Promise<{ status: 'ok'; res: IncomingMessage } | { status: 'challenged' }> {
    const path = req.path;
    const sentAuth = this.session.header(req.method ?? 'GET', path);
    const res = await this.send(req, sentAuth, signal);
    if (res.statusCode === 200 || req.accept?.includes(res.statusCode ?? 0)) return { status: 'ok', res };
    res.destroy(); // an error page is not read: a hostile camera could send it forever
    if (res.statusCode === 401) {
      const c = parseChallenge(res.headers['www-authenticate']);
      if (!c) throw new GatewayError('CAMERA_AUTH_REFUSED', `${this.opts.host}: 401 with no challenge we speak`);
      this.session.challenged(c);
      const stale = /^true$/i.test(c.params.stale ?? '');
      if (sentAuth === null || stale) return { status: 'challenged' };
      this.refusals += 1;
      throw new GatewayError('CAMERA_AUTH_REFUSED', `${this.opts.host} refused user "${this.opts.creds.user}"`, {
        detail: { status: 401 },
      });
    }
    throw new GatewayError('CAMERA_STREAM_LOST', `${this.opts.host} answered ${res.statusCode ?? '?'} to ${path}`, {
      detail: { status: res.statusCode ?? null },
    });
  }

  private send(r: CameraRequest, authorization: string | null, signal: AbortSignal): Promise<IncomingMessage> {
    const path = r.path;
    const body = r.body === undefined ? null : Buffer.from(r.body);
    return new Promise((resolve, reject) => {
      const req = http().request({
        host: this.opts.host,
        port: r.port ?? this.opts.port,
        path,
        method: r.method ?? 'GET',
        agent: false, // one socket a request: Dahua closes each and reissues its nonce
        signal,
        headers: {
          ...(authorization ? { authorization } : {}),
          accept: '*/*',
          ...(body
            ? { 'content-type': r.contentType ?? 'application/octet-stream', 'content-length': body.length }
            : {}),
        },
      });
      const timer = setTimeout(
        () => req.destroy(new GatewayError('CAMERA_STREAM_LOST', `${this.opts.host}: no answer to ${path}`)),
        r.headersTimeoutMs ?? this.opts.headersTimeoutMs,
      );
      req.once('response', (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body ?? undefined);
    });
  }
}
