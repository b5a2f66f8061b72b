/**
 * The editor's front: what every HTTP request meets in the child before Node-RED sees it.
 *
 * Why: Node-RED's own login limit (@node-red/editor-api/lib/auth/strategies.js) keeps every
 * attempt, username and all, in one module-level array for 10 minutes and blocks a USERNAME
 * after 5 failures from anywhere. So 100 attempts with 1 MB usernames exhausted the child, and
 * 300 wrong passwords from a stranger locked the technician out on every client. No setting
 * changes that, so failures never reach it: the front checks the password itself (bcrypt, the
 * same hashes Node-RED is given) and passes only good logins on, which Node-RED's list then
 * forgets at once (a success drops that user's entries). Failures are limited per client:
 * an IPv4 address, or an IPv6 /64 network (client-key.ts): 5 free, then a block that doubles
 * with each further failure up to 5 minutes; one login at a time per client, and at most
 * MAX_PASSWORD_CHECKS bcrypt compares at once across all clients (password-gate.ts).
 *
 * The table of clients is bounded (MAX_CLIENTS), and a flood of new addresses must not buy a
 * blocked client its freedom: only a record with nothing held against it (no failure in a row,
 * or an hour of quiet) makes room for a newcomer, the least recently seen first. When none
 * can, newcomers share one record (`overflow`): together they get 5 free failures and then the
 * same doubling block, so failures from beyond the table cost a stranger as one client does.
 *
 * Bodies: a login body over 4 KiB is refused (413) before it is parsed; any other request
 * that declares a body over DEPLOY_MAX_BYTES is refused before a byte is read, and Node-RED's
 * own parsers get the same limit (settings `apiMaxLength`, `httpNodeMaxLength`) for bodies
 * sent without a length.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { clientKey } from './client-key.js';
import { PasswordGate } from './password-gate.js';
import type { LoginFailure } from './protocol.js';

/** The largest body of a login (POST /auth/token): a username and a password, with room to spare. */
export const LOGIN_MAX_BYTES = 4096;
/** The largest body of any other request, a flow deploy included (Node-RED's default is 5 MB). */
export const DEPLOY_MAX_BYTES = 2 * 1024 * 1024;
/** Failures in a row from one client before it is blocked. */
export const FREE_FAILURES = 5;
const FIRST_BLOCK_MS = 1000;
const MAX_BLOCK_MS = 5 * 60_000;
/** Clients remembered (records), not counting the one newcomers share when it is full. */
export const MAX_CLIENTS = 1024;
/** bcrypt compares running at once (a Pi has 2-4 cores, and the agent needs one). */
export const MAX_PASSWORD_CHECKS = 2;
/** Logins waiting for a compare; more are refused with 429 at once. */
export const MAX_WAITING_CHECKS = 8;
const FORGET_MS = 60 * 60_000;
const LOGIN_PATH = '/auth/token';

interface ClientRecord {
  inRow: number;
  blockedUntil: number;
  lastMs: number;
  busy: boolean;
}

export interface FrontOptions {
  users: { username: string; passwordHash: string }[];
  compare(password: string, hash: string): Promise<boolean>;
  onFailure(f: LoginFailure): void;
  now?: () => number;
}

type Next = (err?: unknown) => void;

export class EditorFront {
  private readonly clients = new Map<string, ClientRecord>();
  private overflow = newRecord(0);
  private readonly gate = new PasswordGate(MAX_PASSWORD_CHECKS, MAX_WAITING_CHECKS);
  private readonly now: () => number;
  private total = 0;

  constructor(private readonly o: FrontOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Clears every block and count (`village-gateway editor unlock`). */
  unlock(): void {
    this.clients.clear();
    this.overflow = newRecord(this.now());
  }

  /** Clients remembered now (bounded by MAX_CLIENTS). */
  get tracked(): number {
    return this.clients.size;
  }

  /** The express middleware, mounted before Node-RED's admin and node apps. */
  readonly handle = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    // Express routes case-insensitively and with or without a trailing slash: so does the front.
    const path = (req.url ?? '').split('?')[0]!.toLowerCase().replace(/\/+$/, '');
    const isLogin = req.method === 'POST' && path === LOGIN_PATH;
    const limit = isLogin ? LOGIN_MAX_BYTES : DEPLOY_MAX_BYTES;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return refuse(req, res, 413, 'request_too_large', `at most ${limit} bytes`);
    if (!isLogin) return next();
    this.login(req, res, next).catch(next);
  };

  private async login(req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> {
    const client = clientKey(req.socket.remoteAddress);
    const rec = this.record(client);
    const now = this.now();
    if (rec.busy || rec.blockedUntil > now) {
      const waitSec = Math.max(1, Math.ceil((rec.blockedUntil - now) / 1000));
      res.setHeader('retry-after', String(waitSec));
      return refuse(req, res, 429, 'too_many_attempts', `too many failed logins from ${client}: wait ${waitSec} s`);
    }
    rec.busy = true;
    try {
      const body = await readBody(req, LOGIN_MAX_BYTES);
      if (body === null) return refuse(req, res, 413, 'request_too_large', `at most ${LOGIN_MAX_BYTES} bytes`);
      const fields = parseFields(body, String(req.headers['content-type'] ?? ''));
      if (fields === null) return refuse(req, res, 400, 'invalid_request', 'a JSON or form body');
      // Only the password grant touches Node-RED's attempt list; anything else is Node-RED's to refuse.
      if (fields['grant_type'] === 'password') {
        const username = typeof fields['username'] === 'string' ? fields['username'] : '';
        const password = typeof fields['password'] === 'string' ? fields['password'] : '';
        const ok = await this.gate.run(() => this.check(username, password));
        if (ok === null) {
          // Not a failure: no password was checked. The client may try again in a moment.
          res.setHeader('retry-after', '1');
          return refuse(req, res, 429, 'too_many_attempts', 'too many logins at once: try again in a second');
        }
        if (!ok) return this.failed(req, res, client, rec, username);
        rec.inRow = 0;
        rec.blockedUntil = 0;
      }
      // Node-RED's body parsers skip a request whose body is already parsed (req._body).
      Object.assign(req, { body: fields, _body: true });
      next();
    } finally {
      rec.busy = false;
      rec.lastMs = this.now();
    }
  }

  private async check(username: string, password: string): Promise<boolean> {
    const user = this.o.users.find((u) => u.username === username);
    // An unknown user costs the same bcrypt round as a known one: the time does not tell which exist.
    const ok = await this.o.compare(password, user?.passwordHash ?? this.o.users[0]!.passwordHash);
    return ok && user !== undefined;
  }

  private failed(req: IncomingMessage, res: ServerResponse, client: string, rec: ClientRecord, username: string): void {
    rec.inRow += 1;
    this.total += 1;
    const over = rec.inRow - FREE_FAILURES;
    const blockedMs = over >= 0 ? Math.min(MAX_BLOCK_MS, FIRST_BLOCK_MS * 2 ** Math.min(over, 20)) : 0;
    rec.blockedUntil = blockedMs > 0 ? this.now() + blockedMs : 0;
    this.o.onFailure({ client, username: username.slice(0, 64), inRow: rec.inRow, total: this.total, blockedMs });
    // What oauth2orize answers for wrong credentials, so the editor shows "login failed" as before.
    refuse(req, res, 403, 'invalid_grant', 'Invalid resource owner credentials');
  }

  /** The client's record, created on first sight (room made, or the shared one); moved to the newest end. */
  private record(client: string): ClientRecord {
    const now = this.now();
    let rec = this.clients.get(client);
    if (rec && now - rec.lastMs > FORGET_MS && !rec.busy) rec = undefined;
    this.clients.delete(client);
    if (!rec && this.clients.size >= MAX_CLIENTS && !this.makeRoom(now)) {
      this.overflow.lastMs = now;
      return this.overflow;
    }
    rec ??= newRecord(now);
    rec.lastMs = now;
    this.clients.set(client, rec);
    return rec;
  }

  /** Forgets the least recently seen record that holds nothing against its client; false when none does. */
  private makeRoom(now: number): boolean {
    // A Map iterates in insertion order, and record() moves a client to the end: oldest first.
    for (const [key, r] of this.clients)
      if (!r.busy && (r.inRow === 0 || now - r.lastMs > FORGET_MS)) {
        this.clients.delete(key);
        return true;
      }
    return false;
  }
}

const newRecord = (now: number): ClientRecord => ({ inRow: 0, blockedUntil: 0, lastMs: now, busy: false });

/** The http server's own limits: a client that sends its headers or body slowly is cut off. */
export function guardServer(server: Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
}

function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string, description: string): void {
  const body = JSON.stringify({ error, error_description: description });
  // A body left unread (too large, or not read at all) is not waited for: the connection closes.
  const unread = !req.readableEnded;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(unread ? { connection: 'close' } : {}),
  });
  res.end(body, () => {
    if (unread) req.socket.destroy();
  });
}

/** The body as text, or null when it is over `limit` bytes (reading stops there). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // A client gone before the end (or cut by the server's requestTimeout): never left waiting,
    // so its record is not held busy for ever.
    req.once('close', () => resolve(null));
  });
}

/** A login body: JSON or a form (what the editor and the admin tools send); null when neither. */
function parseFields(body: string, contentType: string): Record<string, unknown> | null {
  if (contentType.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(body).entries());
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
