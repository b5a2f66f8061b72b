/**
 * A simulated ONVIF camera on a real node:http server: GetSystemDateAndTime (unsigned),
 * CreatePullPointSubscription (with the `Initialized` burst of its current states),
 * PullMessages as a long poll, Renew, Unsubscribe, GetProfiles and GetSnapshotUri, the
 * picture behind HTTP digest. Its clock may be skewed (`clockSkewMs`); every signed request
 * is checked with WS-Security PasswordDigest against that clock, a stale `Created` refused as
 * cameras do (ter:NotAuthorized, "Sender not Authorized"). The pull point can live on a
 * second port. Hostile modes: a huge answer, an entity bomb, a pull that never answers, a
 * subscription that expires early (renew refused).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyDigest } from '../../drivers/camera/http-auth.js';
import * as soap from './camera-onvif-soap.js';

export type { OnvifSimEvent } from './camera-onvif-soap.js';
export type OnvifHostileMode = 'huge' | 'bomb' | 'silent-pull' | 'expire-early';

export interface OnvifSimOptions {
  user?: string;
  password?: string;
  /** The camera's clock minus the real one. */
  clockSkewMs?: number;
  /** How far `Created` may be from the camera's clock. */
  windowMs?: number;
  /** The pull point on a second port (its address names it). */
  subscriptionPort?: boolean;
  /** Every request must also carry HTTP digest (cameras that ask for it besides, or instead of, WS-Security). */
  httpDigest?: boolean;
  /** The longest term granted to a subscription or renew (cameras cap it, some at 60 s). */
  grantMs?: number;
}

interface Sub {
  id: number;
  /** Camera-clock ms when it ends. */
  until: number;
  queue: string[];
  wake: (() => void) | null;
}

const REALM = 'onvif-sim';
const NONCE = 'c2ltLW5vbmNl';

export class OnvifCameraSimulator {
  readonly counts = { clockReads: 0, subscribes: 0, pulls: 0, renews: 0, unsubscribes: 0, snapshots: 0, profiles: 0 };
  /** Signed requests refused (wrong password or stale Created), with the real time of each. */
  readonly refused: number[] = [];
  /** The states sent as `Initialized` at every subscribe. */
  initial: soap.OnvifSimEvent[] = [];
  hostile: OnvifHostileMode | null = null;
  private readonly subs = new Map<number, Sub>();
  private nextId = 0;
  private readonly servers: Server[] = [];
  private readonly open = new Set<ServerResponse>();
  private readonly o: Required<OnvifSimOptions>;
  port = 0;
  subPort = 0;

  constructor(opts: OnvifSimOptions = {}) {
    this.o = {
      user: 'admin',
      password: 'cam-pass-1',
      clockSkewMs: 0,
      windowMs: 5000,
      subscriptionPort: false,
      grantMs: 600_000,
      httpDigest: false,
      ...opts,
    };
  }

  /** The camera's clock. */
  now(): number {
    return Date.now() + this.o.clockSkewMs;
  }

  /** The camera's clock jumps (a power cut, a manual set). */
  setSkew(ms: number): void {
    this.o.clockSkewMs = ms;
  }

  setPassword(p: string): void {
    this.o.password = p;
  }

  get subscriptions(): number {
    return this.subs.size;
  }

  async listen(): Promise<number> {
    const start = async () => {
      const server = createServer((req, res) => void this.handle(req, res));
      this.servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    };
    this.port = await start();
    this.subPort = this.o.subscriptionPort ? await start() : this.port;
    return this.port;
  }

  /** An event the camera's analytics raise: queued for every subscription, pulls waiting answered. */
  event(ev: soap.OnvifSimEvent): void {
    const msg = soap.notification(ev, this.now());
    for (const s of this.subs.values()) {
      s.queue.push(msg);
      s.wake?.();
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
    const url = new URL(req.url ?? '/', 'http://camera');
    if (url.pathname === '/onvif/snapshot') {
      // Only where GetSnapshotUri said: a client that ignores the URI's port finds nothing.
      if (req.socket.localPort !== this.subPort) return void res.writeHead(404).end();
      return this.snapshot(req, res);
    }
    if (this.o.httpDigest && !this.digestOk(req, res)) return;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const xml = Buffer.concat(chunks).toString();
    const op =
      /<(?:\w+:)?(GetSystemDateAndTime|CreatePullPointSubscription|PullMessages|Renew|Unsubscribe|GetProfiles|GetSnapshotUri)\b/.exec(
        xml,
      )?.[1];
    const send = (status: number, body: string): void =>
      void res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' }).end(body);
    if (op === 'GetSystemDateAndTime') {
      this.counts.clockReads += 1;
      return send(200, soap.dateTime(this.now()));
    }
    const check = soap.verifyWsse(xml, this.o, this.now(), this.o.windowMs);
    if (check !== 'ok') {
      this.refused.push(Date.now());
      return send(400, soap.fault('ter:NotAuthorized', 'Sender not Authorized'));
    }
    const sub = this.subs.get(Number(url.searchParams.get('Idx')));
    switch (op) {
      case 'CreatePullPointSubscription':
        return send(200, this.subscribe(xml));
      case 'PullMessages':
        if (!sub) return send(400, soap.fault('wsrf-rw:ResourceUnknownFault', 'No such subscription'));
        return this.pull(sub, xml, res, send);
      case 'Renew':
        this.counts.renews += 1;
        if (!sub || this.hostile === 'expire-early') {
          if (sub) this.subs.delete(sub.id);
          return send(400, soap.fault('wsrf-rw:ResourceUnknownFault', 'The subscription has expired'));
        }
        sub.until = this.now() + this.term(xml, 'TerminationTime');
        return send(200, soap.renewed(this.now(), sub.until));
      case 'Unsubscribe':
        this.counts.unsubscribes += 1;
        if (sub) this.subs.delete(sub.id);
        return send(200, soap.envelope('<wsnt:UnsubscribeResponse/>'));
      case 'GetProfiles':
        this.counts.profiles += 1;
        return send(200, soap.profiles());
      case 'GetSnapshotUri':
        return send(200, soap.snapshotUri(`http://192.0.2.1:${this.subPort}/onvif/snapshot?token=sub`));
      default:
        return send(400, soap.fault('ter:ActionNotSupported', 'Not supported'));
    }
  }

  private subscribe(xml: string): string {
    this.counts.subscribes += 1;
    const id = ++this.nextId;
    const until = this.now() + this.term(xml, 'InitialTerminationTime');
    const queue = this.initial.map((ev) => soap.notification({ ...ev, operation: 'Initialized' }, this.now()));
    this.subs.set(id, { id, until, queue, wake: null });
    // The address a camera reports is its own idea of itself: the driver keeps the host it knows.
    return soap.subscribed(`http://192.0.2.1:${this.subPort}/onvif/Subscription?Idx=${id}`, this.now(), until);
  }

  private term(xml: string, tag: string): number {
    return Math.min(duration(xml, tag, 60_000), this.o.grantMs);
  }

  private async pull(sub: Sub, xml: string, res: ServerResponse, send: (s: number, b: string) => void): Promise<void> {
    this.counts.pulls += 1;
    if (this.hostile === 'silent-pull') return; // holds the request open, answers nothing
    if (this.hostile === 'huge') {
      res.writeHead(200, { 'content-type': 'application/soap+xml' });
      const junk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 20 && !res.destroyed; i += 1) if (!res.write(junk)) await once(res);
      return void res.end();
    }
    if (this.hostile === 'bomb') return send(200, soap.entityBomb());
    const wait = Math.min(duration(xml, 'Timeout', 1000), 60_000);
    if (sub.queue.length === 0)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        sub.wake = () => {
          clearTimeout(t);
          resolve();
        };
        res.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    sub.wake = null;
    if (res.destroyed) return;
    const limit = Number(/<(?:\w+:)?MessageLimit>(\d+)</.exec(xml)?.[1] ?? 100);
    send(200, soap.pulled(this.now(), sub.until, sub.queue.splice(0, limit)));
  }

  /** HTTP digest, as the snapshot URL (and some cameras' SOAP) asks for it; a 401 challenge if not. */
  private digestOk(req: IncomingMessage, res: ServerResponse): boolean {
    const auth = req.headers.authorization;
    if (auth && verifyDigest(auth, req.method ?? 'GET', this.o, REALM, NONCE)) return true;
    if (auth) this.refused.push(Date.now());
    res.writeHead(401, { 'www-authenticate': `Digest realm="${REALM}", nonce="${NONCE}", qop="auth"` }).end();
    return false;
  }

  private snapshot(req: IncomingMessage, res: ServerResponse): void {
    if (!this.digestOk(req, res)) return;
    this.counts.snapshots += 1;
    const jpeg = readFileSync(new URL('../../test/fixtures/gate-camera.jpg', import.meta.url));
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    for (const s of this.subs.values()) s.wake?.();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** An ISO 8601 duration in `tag` (PT20S, PT1M, PT0.5S) as ms, else `fallback`. */
function duration(xml: string, tag: string, fallback: number): number {
  const m = new RegExp(`<(?:\\w+:)?${tag}>PT(?:(\\d+)M)?(?:([\\d.]+)S)?<`).exec(xml);
  if (!m) return fallback;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000;
}

const once = (res: ServerResponse) => new Promise((r) => res.once('drain', r));
