/**
 * # The weak-link lab
 *
 * A TCP proxy that behaves like the cellular uplink of a mountain village, for tests, benchmarks,
 * the demo and technicians (this kernel has no netem; see netns.sh for the kernel-side option).
 *
 * ```ts
 * const link = await WeakLink.start({ targetPort: 1883, profile: 'edge-2g' });
 * mqtt.connect(link.url);                        // mqtt://127.0.0.1:<port>
 * link.blackhole(); link.restore(); link.cut(); link.reset(); link.setProfile('gprs');
 * link.stats().up.forwardedBytes;                // bytes on the wire, client to target
 * link.rawLinkMs(bytes);                         // bytes / rate + delay: the baseline for a ratio
 * await link.stop();
 * ```
 *
 * - **Shape** (`profiles.ts`): one-way delay plus jitter that never reorders bytes, a rate cap
 *   per direction, and a modem's bounded buffer (see wire.ts for the model: each direction is one
 *   FIFO wire shared by every connection, as one modem is; a full buffer pauses the sender).
 * - **Modes**: `pass`, `blackhole` (nothing forwarded, nothing closed; what waited goes on
 *   afterwards, in order), `cut` (everything closed, new connections closed at once), `reset`
 *   (TCP RST to everything). `blackhole()`, `cut()` and `restore()` set the mode by hand and stop
 *   the profile's schedule; `reset()` resets the open connections and leaves the mode alone;
 *   `lose(['down'])` throws away one direction's bytes until restore() (a broken stream).
 * - **Schedules**: `flapping` and `outage-30min` carry outages; `timeScale` compresses only the
 *   schedule (60: five minutes take five seconds), never delay or rate. `history` records every
 *   mode change with its time since start.
 * - **CLI**: `node dist/scripts/weak-link/lab.js --target 127.0.0.1:1883 --profile edge-2g`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../brokers/free-port.js';
import { LinkConnection, type Target } from './connection.js';
import {
  profileOf,
  rawLinkMs,
  type Direction,
  type LinkProfile,
  type PerDirection,
  type ProfileName,
  type WeakLinkMode,
} from './profiles.js';
import { ScheduleRunner } from './schedule.js';
import { Wire, type WireCounters } from './wire.js';

// One entry point for tests and benchmarks: the profiles and the raw link time come with the link.
export {
  PROFILES,
  UNSHAPED,
  isProfileName,
  profileOf,
  rawLinkMs,
  rawRoundTripMs,
  type Direction,
  type LinkPhase,
  type LinkProfile,
  type LinkSchedule,
  type PerDirection,
  type ProfileName,
  type WeakLinkMode,
} from './profiles.js';

export interface WeakLinkOptions {
  targetPort: number;
  targetHost?: string;
  /** A free port when left out. */
  listenPort?: number;
  /** 127.0.0.1 when left out. */
  listenHost?: string;
  /** `good-4g` when left out. */
  profile?: ProfileName | LinkProfile;
  /** Divides the schedule's times (not delay or rate); 1 when left out. */
  timeScale?: number;
  /** Run the profile's schedule (true when left out). */
  schedule?: boolean;
  /** Seeds the jitter, so a run can be repeated (a fixed seed when left out). */
  seed?: number;
}

export interface DirectionStats extends WireCounters {
  /** In the modem's buffer now (never above the profile's bufferBytes). */
  queuedBytes: number;
  /** Sent, not yet arrived. */
  inFlightBytes: number;
  /** Read from paused senders, waiting for room in the buffer (at most one read per sender). */
  waitingBytes: number;
}

export interface WeakLinkStats {
  mode: WeakLinkMode;
  profile: string;
  /** Connections accepted since start (refused ones included). */
  connections: number;
  /** Connections open now. */
  open: number;
  up: DirectionStats;
  down: DirectionStats;
}

export interface ModeChange {
  /** ms since the link started. */
  atMs: number;
  mode: WeakLinkMode;
  by: 'schedule' | 'manual';
}

/** A small seeded PRNG (mulberry32): jitter that a benchmark can repeat. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HISTORY_MAX = 1000;

export class WeakLink {
  port = 0;
  /** The last error of the listening socket after start (a lab must not crash its host). */
  lastError: string | null = null;
  private current: LinkProfile;
  private linkMode: WeakLinkMode = 'pass';
  private losing: ReadonlySet<Direction> = new Set();
  private server: Server | null = null;
  private runner: ScheduleRunner | null = null;
  private accepted = 0;
  private readonly startedAt = performance.now();
  private readonly changes: ModeChange[] = [];
  private readonly conns = new Set<LinkConnection>();
  private readonly listeners = new Set<(change: ModeChange) => void>();
  private readonly wires: PerDirection<Wire>;
  private readonly target: Target;

  private constructor(private readonly opts: WeakLinkOptions) {
    if (opts.timeScale !== undefined && !(opts.timeScale > 0))
      throw new Error(`timeScale must be > 0 (got ${opts.timeScale})`);
    this.current = profileOf(opts.profile ?? 'good-4g');
    this.target = { host: opts.targetHost ?? '127.0.0.1', port: opts.targetPort };
    const random = seeded(opts.seed ?? 0x5eed);
    const held = () => this.linkMode === 'blackhole';
    const wire = (dir: Direction) =>
      new Wire(
        () => ({ ...this.current, rateBitsPerSec: this.current.rateBitsPerSec[dir] }),
        held,
        () => this.losing.has(dir),
        random,
      );
    this.wires = { up: wire('up'), down: wire('down') };
  }

  static async start(opts: WeakLinkOptions): Promise<WeakLink> {
    const link = new WeakLink(opts);
    await link.listen();
    if (opts.schedule !== false) link.runSchedule();
    return link;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get mode(): WeakLinkMode {
    return this.linkMode;
  }

  get profile(): LinkProfile {
    return this.current;
  }

  /** Every mode change since start (the last 1000), oldest first. */
  get history(): readonly ModeChange[] {
    return this.changes;
  }

  /** ms since the link started, on the clock `history` uses. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** The raw link time for `bytes` one way on the current profile (bytes / rate + delay). */
  rawLinkMs(bytes: number, direction: Direction = 'up'): number {
    return rawLinkMs(bytes, this.current, direction);
  }

  /**
   * A new shape from now on (open connections included: bytes already sent keep their times).
   * Its schedule starts from now, unless `schedule: false`. An outage the old schedule was in
   * ends (the link passes); a mode set by hand stays.
   */
  setProfile(profile: ProfileName | LinkProfile, opts: { schedule?: boolean } = {}): void {
    this.current = profileOf(profile);
    if (this.runner && this.linkMode !== 'pass') this.apply('pass', 'schedule');
    this.runner?.stop();
    this.runner = null;
    if (opts.schedule !== false) this.runSchedule();
    this.kick();
  }

  /** Forwards nothing, closes nothing, until restore(). Stops the schedule. */
  blackhole(): void {
    this.manual('blackhole');
  }

  /** Closes every connection and refuses new ones until restore(). Stops the schedule. */
  cut(): void {
    this.manual('cut');
  }

  /** Back to `pass`: what waited in a blackhole goes on; nothing is lost any more. Stops the schedule. */
  restore(): void {
    this.losing = new Set();
    this.manual('pass');
  }

  /**
   * Reads and throws away every byte in the given directions (both by default) until restore();
   * connections stay open. Unlike a blackhole the bytes are gone: restoring resumes a broken
   * stream, which the peers must detect like any corrupt link (`down` alone: PUBACKs that never
   * come while the publishes still arrive). Counted in `lostBytes`. The mode stays.
   */
  lose(directions: readonly Direction[] = ['up', 'down']): void {
    this.losing = new Set(directions);
  }

  /** The directions losing everything now. */
  get lost(): ReadonlySet<Direction> {
    return this.losing;
  }

  /** A TCP RST to both sides of every open connection now; the mode stays. */
  reset(): void {
    for (const c of this.conns) c.reset();
  }

  stats(): WeakLinkStats {
    const dir = (w: Wire): DirectionStats => ({
      ...w.counters,
      queuedBytes: w.queuedBytes,
      inFlightBytes: w.inFlightBytes,
      waitingBytes: w.waitingBytes,
    });
    return {
      mode: this.linkMode,
      profile: this.current.name,
      connections: this.accepted,
      open: this.conns.size,
      up: dir(this.wires.up),
      down: dir(this.wires.down),
    };
  }

  /** Called with every mode change; returns the unsubscribe function. */
  onModeChange(fn: (change: ModeChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async stop(): Promise<void> {
    this.runner?.stop();
    this.runner = null;
    for (const c of this.conns) c.cut();
    this.conns.clear();
    this.wires.up.close();
    this.wires.down.close();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private async listen(): Promise<void> {
    this.port = this.opts.listenPort ?? (await freePort());
    const server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.opts.listenHost ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => (this.lastError = err.message));
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    client.on('error', () => {}); // refused below, or handled by its connection
    if (this.linkMode === 'cut') return void client.destroy();
    if (this.linkMode === 'reset') return void client.resetAndDestroy();
    const conn = new LinkConnection(client, this.target, this.wires, (c) => this.conns.delete(c));
    this.conns.add(conn);
    if (this.linkMode === 'pass') conn.connectUpstream(); // in a blackhole: once it passes
  }

  private runSchedule(): void {
    const schedule = this.current.schedule;
    if (!schedule) return;
    this.runner = new ScheduleRunner(schedule, this.opts.timeScale ?? 1, (m) => this.apply(m, 'schedule'));
    this.runner.start();
  }

  private manual(mode: WeakLinkMode): void {
    this.runner?.stop();
    this.runner = null;
    this.apply(mode, 'manual');
  }

  private apply(mode: WeakLinkMode, by: ModeChange['by']): void {
    this.linkMode = mode;
    const change: ModeChange = { atMs: this.elapsedMs(), mode, by };
    this.changes.push(change);
    if (this.changes.length > HISTORY_MAX) this.changes.shift();
    if (mode === 'cut') for (const c of this.conns) c.cut();
    if (mode === 'reset') for (const c of this.conns) c.reset();
    if (mode === 'pass') for (const c of this.conns) c.connectUpstream();
    this.kick();
    for (const fn of this.listeners) fn(change);
  }

  private kick(): void {
    this.wires.up.kick();
    this.wires.down.kick();
  }
}
