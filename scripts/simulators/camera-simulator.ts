/**
 * A simulated IP camera on a real node:http server: Hikvision ISAPI alertStream or Dahua CGI
 * eventManager attach, framed as cameras.md shows (camera-framing.ts). It challenges with
 * Digest (or Basic, or offers both), counts failed logins and locks the account after
 * `lockAfter` of them in a row (Hikvision's "illegal login lock"; the count cameras use is a
 * device setting, 5 here) for `lockMs`, sends heartbeats, and plays hostile cameras
 * (camera-hostile.ts) on request. Its snapshot URL gives a real JPEG (camera-snapshot-sim.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyBasic, verifyDigest } from '../../drivers/camera/http-auth.js';
import { CONTENT_TYPE, eventPart, heartbeatPart, type Brand, type SimEvent } from './camera-framing.js';
import { playHostile, SILENCES_HEARTBEAT, type HostileMode } from './camera-hostile.js';
import { isSnapshotPath, SnapshotServer } from './camera-snapshot-sim.js';

export interface CameraSimOptions {
  brand: Brand;
  user?: string;
  password?: string;
  auth?: 'digest' | 'basic' | 'both';
  /** 0: no heartbeats. */
  heartbeatMs?: number;
  lockAfter?: number;
  lockMs?: number;
  /** Dahua firmware that ends lines with a bare LF. */
  eol?: '\r\n' | '\n';
  /** Old Hikvision firmware: the stream is at /Event/notification/alertStream, /ISAPI answers 404. */
  legacyPath?: boolean;
}

export class CameraSimulator {
  /** Event streams open now. */
  readonly streams = new Set<ServerResponse>();
  /** Stream requests that were let in. */
  connections = 0;
  /** Every request that carried wrong credentials, with its time (ms). */
  readonly failedLogins: number[] = [];
  /** Failed logins in a row, and the end of a lock (0: not locked). */
  private failuresInRow = 0;
  private lockedUntil = 0;
  hostile: HostileMode | null = null;
  /** The pictures at the snapshot URL, and their hostile modes (camera-snapshot-sim.ts). */
  readonly snapshots = new SnapshotServer();
  private password: string;
  private readonly server: Server;
  private readonly nonces = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stops = new Set<() => void>();
  private readonly o: Required<CameraSimOptions>;
  readonly realm: string;

  constructor(opts: CameraSimOptions) {
    this.o = {
      user: 'admin',
      password: 'cam-pass-1',
      auth: 'digest',
      heartbeatMs: 200,
      lockAfter: 5,
      lockMs: 30 * 60_000,
      eol: '\r\n',
      legacyPath: false,
      ...opts,
    };
    this.password = this.o.password;
    this.realm = opts.brand === 'hikvision' ? 'IP Camera(D8382)' : 'Login to 4L0C2A1PAZ8E4D1';
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get brand(): Brand {
    return this.o.brand;
  }

  get locked(): boolean {
    return Date.now() < this.lockedUntil;
  }

  setPassword(p: string): void {
    this.password = p;
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Writes one event part to every open stream. */
  event(e: SimEvent): void {
    this.write(eventPart(this.o.brand, e, this.o.eol));
  }

  write(text: string | Buffer): void {
    for (const res of this.streams) res.write(text);
  }

  /** Writes half of an event part, then cuts every stream (a power cut, a cable pulled). */
  cutMidPart(e: SimEvent): void {
    const p = eventPart(this.o.brand, e, this.o.eol);
    for (const res of this.streams) {
      res.write(p.slice(0, Math.floor(p.length / 2)));
      res.socket?.destroy();
    }
    this.streams.clear();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.authorized(req, res)) return;
    const path = req.url ?? '';
    if (isSnapshotPath(this.o.brand, path)) return this.snapshots.handle(req, res);
    const stream =
      this.o.brand === 'hikvision'
        ? path.startsWith(
            this.o.legacyPath ? '/Event/notification/alertStream' : '/ISAPI/Event/notification/alertStream',
          )
        : path.startsWith('/cgi-bin/eventManager.cgi?action=attach');
    if (!stream) {
      res.writeHead(404).end();
      return;
    }
    this.connections += 1;
    if (this.hostile === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Please log in</body></html>');
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE[this.o.brand], 'mime-version': '1.0' });
    res.flushHeaders();
    this.streams.add(res);
    const beat =
      this.o.heartbeatMs > 0 && !(this.hostile && SILENCES_HEARTBEAT.has(this.hostile))
        ? setInterval(() => res.write(heartbeatPart(this.o.brand, this.o.eol)), this.o.heartbeatMs)
        : null;
    if (beat) this.timers.add(beat);
    res.on('close', () => {
      this.streams.delete(res);
      if (beat) {
        clearInterval(beat);
        this.timers.delete(beat);
      }
    });
    if (this.hostile) {
      const stop = playHostile(this.hostile, this.o.brand, res);
      this.stops.add(stop);
      res.on('close', () => {
        stop();
        this.stops.delete(stop);
      });
    }
  }

  /** Checks the credentials; answers 401 (with a fresh challenge) and returns false when they do not pass. */
  private authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const header = req.headers.authorization;
    const creds = { user: this.o.user, password: this.password };
    if (header !== undefined) {
      const nonce = /nonce="([^"]*)"/.exec(header)?.[1] ?? '';
      const ok =
        !this.locked &&
        (/^basic/i.test(header)
          ? this.o.auth !== 'digest' && verifyBasic(header, creds)
          : this.o.auth !== 'basic' &&
            this.nonces.has(nonce) &&
            verifyDigest(header, req.method ?? 'GET', creds, this.realm, nonce));
      if (ok) {
        this.failuresInRow = 0;
        return true;
      }
      if (!this.locked) {
        this.failedLogins.push(Date.now());
        this.failuresInRow += 1;
        if (this.failuresInRow >= this.o.lockAfter) this.lockedUntil = Date.now() + this.o.lockMs;
      }
    }
    const nonce = randomBytes(12).toString('hex'); // a new one each time, as Dahua does
    this.nonces.add(nonce);
    const challenges: string[] = [];
    if (this.o.auth !== 'basic')
      challenges.push(`Digest realm="${this.realm}", qop="auth", nonce="${nonce}", opaque="", stale="FALSE"`);
    if (this.o.auth !== 'digest') challenges.push(`Basic realm="${this.realm}"`);
    res.writeHead(401, { 'www-authenticate': challenges, 'content-type': 'application/xml', connection: 'close' });
    res.end('<userCheck><statusValue>401</statusValue><statusString>Unauthorized</statusString></userCheck>');
    return false;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.snapshots.close();
    for (const stop of this.stops) stop();
    for (const res of this.streams) res.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
