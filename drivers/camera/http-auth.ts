/**
 * HTTP authentication as cameras ask for it: the camera's `WWW-Authenticate` challenge says
 * Digest (MD5, qop=auth, as Hikvision and Dahua send it) or Basic (old firmware answers only
 * that), and we answer what it asked, never assuming. One `DigestSession` per camera keeps the
 * nonce and an increasing `nc`, so a snapshot fetch can share the event stream's state (Dahua
 * logs a refused login for every 401, and reissues its nonce on each response).
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  scheme: 'digest' | 'basic';
  params: Record<string, string>;
}

/** Parses one challenge (`Digest realm="x", nonce="y", qop="auth"`); null for a scheme we do not speak. */
export function parseChallenge(header: string | string[] | undefined): Challenge | null {
  const all = Array.isArray(header) ? header : header ? [header] : [];
  // A camera that offers both lists Digest first or last; Digest is the stronger, take it.
  const parsed = all.map(parseOne).filter((c): c is Challenge => c !== null);
  return parsed.find((c) => c.scheme === 'digest') ?? parsed[0] ?? null;
}

function parseOne(header: string): Challenge | null {
  const m = /^\s*(digest|basic)\b(.*)$/is.exec(header.slice(0, 2000));
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/gi;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: m[1]!.toLowerCase() as Challenge['scheme'], params };
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export interface Credentials {
  user: string;
  password: string;
}

/** The Authorization header for one request, from the last challenge the camera sent. */
export class DigestSession {
  private challenge: Challenge | null = null;
  private nc = 0;

  constructor(private readonly creds: Credentials) {}

  /** Takes the camera's latest challenge (a new nonce restarts the count). */
  challenged(c: Challenge): void {
    if (c.params.nonce !== this.challenge?.params.nonce) this.nc = 0;
    this.challenge = c;
  }

  get scheme(): Challenge['scheme'] | null {
    return this.challenge?.scheme ?? null;
  }

  /** Null until a challenge was seen: the first request goes without credentials. */
  header(method: string, uri: string): string | null {
    const c = this.challenge;
    if (!c) return null;
    if (c.scheme === 'basic')
      return `Basic ${Buffer.from(`${this.creds.user}:${this.creds.password}`).toString('base64')}`;
    const { realm = '', nonce = '', opaque, qop, algorithm } = c.params;
    const ha1 = md5(`${this.creds.user}:${realm}:${this.creds.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const parts = [`username="${this.creds.user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`];
    // qop may list several ("auth,auth-int"); we only ever send auth (no body to protect).
    if (qop && qop.split(',').some((q) => q.trim() === 'auth')) {
      this.nc += 1;
      const nc = this.nc.toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      parts.push(`qop=auth`, `nc=${nc}`, `cnonce="${cnonce}"`);
      parts.push(`response="${md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)}"`);
    } else {
      parts.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
    }
    if (opaque !== undefined) parts.push(`opaque="${opaque}"`);
    if (algorithm) parts.push(`algorithm=${algorithm}`);
    return `Digest ${parts.join(', ')}`;
  }
}

/** Server side, for the simulated cameras: does this Authorization header prove the password? */
export function verifyDigest(
  authorization: string,
  method: string,
  creds: Credentials,
  realm: string,
  nonce: string,
): boolean {
  const c = parseOne(authorization);
  if (!c) return false;
  if (c.scheme === 'basic') return false;
  const p = c.params;
  if (p.username !== creds.user || p.nonce !== nonce || p.realm !== realm) return false;
  const ha1 = md5(`${creds.user}:${realm}:${creds.password}`);
  const ha2 = md5(`${method}:${p.uri ?? ''}`);
  const expected =
    p.qop === 'auth'
      ? md5(`${ha1}:${nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:auth:${ha2}`)
      : md5(`${ha1}:${nonce}:${ha2}`);
  return expected === p.response;
}

/** Server side: does this header carry the right Basic credentials? */
export function verifyBasic(authorization: string, creds: Credentials): boolean {
  const m = /^\s*basic\s+(\S+)/i.exec(authorization);
  return m !== null && Buffer.from(m[1]!, 'base64').toString() === `${creds.user}:${creds.password}`;
}
