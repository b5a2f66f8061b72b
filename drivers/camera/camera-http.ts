/**
 * GET requests to one camera over node:http, answering its auth challenge: the event stream
 * uses it, and a snapshot fetch can share it (and its digest state: one `nc` sequence a camera).
 * A 401 to a request that carried credentials is a refused password, never retried here: the
 * driver waits long before it tries again, so the camera does not lock its account. A 401 to
 * one without (or with a stale nonce) is the challenge, answered once at once.
 */
import { request, type IncomingMessage } from 'node:http';
import { GatewayError } from '../../core/kernel/errors.js';
import { DigestSession, parseChallenge, type Credentials } from './http-auth.js';

export interface CameraHttpOptions {
  host: string;
  port: number;
  creds: Credentials;
  /** Until the response headers arrive (a camera that accepts and says nothing). */
  headersTimeoutMs: number;
}

export class CameraHttp {
  readonly session: DigestSession;
  /** Logins the camera refused (401 to a request with credentials), for describe(). */
  refusals = 0;

  constructor(private readonly opts: CameraHttpOptions) {
    this.session = new DigestSession(opts.creds);
  }

  /** A 200 response, its body unread; throws a GatewayError for anything else. */
  async get(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const first = await this.once(path, signal);
    if (first.status !== 'challenged') return first.res;
    const second = await this.once(path, signal);
    if (second.status === 'ok') return second.res;
    this.refusals += 1;
    throw new GatewayError('CAMERA_AUTH_REFUSED', `${this.opts.host} refused user "${this.opts.creds.user}"`, {
      detail: { status: 401 },
    });
  }

  private async once(
    path: string,
    signal: AbortSignal,
  ): Promise<{ status: 'ok'; res: IncomingMessage } | { status: 'challenged' }> {
    const sentAuth = this.session.header('GET', path);
    const res = await this.send(path, sentAuth, signal);
    if (res.statusCode === 200) return { status: 'ok', res };
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

  private send(path: string, authorization: string | null, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: this.opts.host,
        port: this.opts.port,
        path,
        method: 'GET',
        agent: false, // one socket a request: Dahua closes each and reissues its nonce
        signal,
        headers: { ...(authorization ? { authorization } : {}), accept: '*/*' },
      });
      const timer = setTimeout(
        () => req.destroy(new GatewayError('CAMERA_STREAM_LOST', `${this.opts.host}: no answer to ${path}`)),
        this.opts.headersTimeoutMs,
      );
      req.once('response', (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }
}
