/**
 * The weak-link proxy's older face, kept for the tests and the demo that drive it by hand:
 * `new TcpProxy({ targetPort }).start()`, then cut, stall and restore, a fixed delay and a bandwidth
 * cap. It is a WeakLink (weak-link.ts) with no shaping until `delayMs` or `rateBytesPerSec` is set,
 * so it shares its queueing model (a bounded buffer that pauses the sender, not an unbounded queue).
 * Modes: pass, cut (drop every connection, refuse new ones), stall (accept, forward nothing: the
 * bytes are thrown away). A stall can take one direction only: `down` (server to client) drops the
 * broker's PUBACKs and PINGRESPs while the gateway's publishes still arrive, i.e. acknowledgements
 * that never come. New code: use WeakLink and its profiles.
 */
import { UNSHAPED, type Direction, type LinkProfile } from './profiles.js';
import { WeakLink } from './weak-link.js';

export type LinkMode = 'pass' | 'cut' | 'stall';
export type { Direction };

export interface ProxyOptions {
  targetHost?: string;
  targetPort: number;
  listenPort?: number;
}

export class TcpProxy {
  mode: LinkMode = 'pass';
  private link: WeakLink | null = null;
  private shape: LinkProfile = UNSHAPED;

  constructor(private readonly opts: ProxyOptions) {}

  get port(): number {
    return this.link?.port ?? 0;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** While stalled, which directions drop their bytes. */
  get stalled(): ReadonlySet<Direction> {
    return this.link?.lost ?? new Set();
  }

  /** Bytes dropped by stalls, per direction (a test can check its stall really bit). */
  get dropped(): Readonly<Record<Direction, number>> {
    const s = this.started.stats();
    return { up: s.up.lostBytes, down: s.down.lostBytes };
  }

  /** Connections accepted. */
  get connections(): number {
    return this.link?.stats().connections ?? 0;
  }

  /** The last error of the listening socket after it started (a proxy must not crash its host). */
  get lastError(): string | null {
    return this.link?.lastError ?? null;
  }

  /** One-way delay, each direction. */
  get delayMs(): number {
    return this.shape.delayMs;
  }

  set delayMs(ms: number) {
    this.reshape({ ...this.shape, delayMs: ms });
  }

  /** Bytes per second per direction; 0 = unlimited. */
  get rateBytesPerSec(): number {
    return this.shape.rateBitsPerSec.up / 8;
  }

  set rateBytesPerSec(bytes: number) {
    this.reshape({ ...this.shape, rateBitsPerSec: { up: bytes * 8, down: bytes * 8 } });
  }

  async start(): Promise<this> {
    const { targetHost, targetPort, listenPort } = this.opts;
    this.link = await WeakLink.start({ targetHost, targetPort, listenPort, profile: this.shape });
    return this;
  }

  /** Drops every connection now and refuses new ones until restore(). */
  cut(): void {
    this.mode = 'cut';
    this.started.cut();
  }

  /**
   * Forwards nothing in the given directions (both by default); connections stay open. Bytes
   * are dropped, not held: restoring mid-connection resumes a broken stream, which the peers
   * must detect like any corrupt link.
   */
  stall(directions: readonly Direction[] = ['up', 'down']): void {
    this.mode = 'stall';
    this.started.lose(directions);
  }

  restore(): void {
    this.mode = 'pass';
    this.started.restore();
  }

  async stop(): Promise<void> {
    await this.link?.stop();
    this.link = null;
  }

  private reshape(profile: LinkProfile): void {
    this.shape = profile;
    this.link?.setProfile(profile, { schedule: false });
  }

  private get started(): WeakLink {
    if (!this.link) throw new Error('TcpProxy: start() first');
    return this.link;
  }
}
