/**
 * A networked camera (Hikvision ISAPI alertStream, Dahua CGI eventManager attach): one
 * long-lived multipart stream of events and heartbeats. Any part resets the idle timer; a
 * stream that ends, goes silent or cannot be opened is reported offline with its reason and
 * reopened through the shared reconnect loop. A refused password waits long and longer
 * (authRetry) before the next try, so the camera never locks its account. The profile
 * decides what each vendor code is (camera-event-mapper.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Driver, DriverContext, DriverDescription } from '../../core/contracts/driver.js';
import type { EventInput } from '../../core/contracts/event.js';
import type { CameraDeviceConfig } from '../../config/schema/devices.js';
import type { CameraProfile } from '../../config/schema/profile.js';
import { Backoff } from '../../core/kernel/backoff.js';
import { errorMessage, failure, foreignCode, GatewayError, type ErrorCode } from '../../core/kernel/errors.js';
import { ReconnectLoop } from '../../core/kernel/reconnect-loop.js';
import { emitLogged } from '../emit-logged.js';
import { driverStopped } from '../stopped.js';
import type { Decoded } from './camera-event.js';
import { CameraEventMapper } from './camera-event-mapper.js';
import { CameraHttp } from './camera-http.js';
import { CameraSnapshots } from './camera-snapshot.js';
import { decodeDahua } from './dahua-decode.js';
import { decodeHikvision } from './hikvision-decode.js';
import { boundaryOf, MultipartParser, type Part } from './multipart-parser.js';
import { ProblemLog } from './problem-log.js';

type DownReason = 'auth' | 'silent' | 'closed' | 'refused' | 'not-a-stream' | 'error';

/** Picks the wait after a failure: the long auth backoff after a refused password, else the link's. */
class CameraBackoff extends Backoff {
  authRefused = false;
  constructor(
    link: { minMs: number; maxMs: number },
    private readonly auth: Backoff,
  ) {
    super(link.minMs, link.maxMs, 0.2);
  }
  override next(): number {
    return this.authRefused ? this.auth.next() : super.next();
  }
  override reset(): void {
    super.reset();
    this.auth.reset();
  }
}

export class CameraDriver implements Driver {
  private readonly cfg: CameraDeviceConfig;
  private readonly http: CameraHttp;
  private readonly snapshots: CameraSnapshots;
  private readonly mapper: CameraEventMapper;
  private readonly pulseCodes: Set<string>;
  private readonly backoff: CameraBackoff;
  private readonly loop: ReconnectLoop;
  private readonly problems: ProblemLog;
  private readonly idleMs: number;
  private readonly abort = new AbortController();
  private stream: { res: IncomingMessage; parser: MultipartParser } | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private awaitingFirstPart = false;
  private legacyPath = false;
  private running = false;
  private online: boolean | null = null;
  private lastSeenMs: number | null = null;
  private lastError: string | null = null;
  private downReason: DownReason | null = null;
  private errors = 0;
  private readonly counts = { parts: 0, heartbeats: 0, events: 0, ignored: 0, oversize: 0, malformed: 0 };

  constructor(
    private readonly ctx: DriverContext<CameraDeviceConfig>,
    private readonly profile: CameraProfile,
    password: string,
  ) {
    this.cfg = ctx.config;
    this.idleMs = this.cfg.idleTimeoutMs ?? profile.defaults.idleTimeoutSec * 1000;
    this.http = new CameraHttp({
      host: this.cfg.host,
      port: this.cfg.port ?? profile.defaults.port,
      creds: { user: this.cfg.user, password },
      headersTimeoutMs: Math.min(10_000, this.idleMs),
    });
    const snap = profile.snapshot;
    const spec = snap && {
      path: snap.path,
      maxBytes: snap.maxBytes,
      timeoutMs: this.cfg.snapshotTimeoutMs ?? snap.timeoutSec * 1000,
    };
    this.snapshots = new CameraSnapshots(this.http, spec, this.cfg.host, this.abort.signal);
    this.pulseCodes = CameraEventMapper.pulseCodes(profile);
    const debounceMs = this.cfg.debounceMs ?? profile.defaults.debounceSec * 1000;
    this.mapper = new CameraEventMapper(this.cfg.id, profile, debounceMs, this.cfg.channels, () => ctx.clock.monoMs());
    this.problems = new ProblemLog(ctx.logger, () => ctx.clock.monoMs());
    const auth = new Backoff(this.cfg.authRetry.minMs, this.cfg.authRetry.maxMs, 0.1);
    this.backoff = new CameraBackoff(this.cfg.reconnect, auth);
    this.loop = new ReconnectLoop({ backoff: this.backoff, attempt: () => void this.attempt() });
  }

  /** The event stream's path for this brand. */
  private streamPath(): string {
    if (this.profile.protocol === 'hikvision-isapi')
      return this.legacyPath ? '/Event/notification/alertStream' : '/ISAPI/Event/notification/alertStream';
    const codes = Object.keys(this.profile.events).join(',');
    return `/cgi-bin/eventManager.cgi?action=attach&codes=[${codes}]&heartbeat=${this.profile.defaults.heartbeatSec}`;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running || this.abort.signal.aborted) return;
    this.running = true;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.loop.start();
  }

  private async attempt(): Promise<void> {
    let res: IncomingMessage;
    try {
      res = await this.openStream();
    } catch (err) {
      if (!this.running) return;
      const refused = err instanceof GatewayError && err.code === 'CAMERA_AUTH_REFUSED';
      const reason = refused ? 'auth' : foreignCode(err) === 'ECONNREFUSED' ? 'refused' : 'error';
      return this.lost(reason, refused ? 'CAMERA_AUTH_REFUSED' : 'CAMERA_STREAM_LOST', err);
    }
    const boundary = boundaryOf(res.headers['content-type']);
    if (!this.running) return void res.destroy();
    if (!boundary) {
      res.destroy();
      const what = `answered ${res.headers['content-type'] ?? 'no Content-Type'}, not a multipart stream`;
      return this.lost('not-a-stream', 'CAMERA_NOT_A_STREAM', new GatewayError('CAMERA_NOT_A_STREAM', what));
    }
    const limits = { maxPartBytes: this.profile.defaults.maxPartBytes, maxHeaderBytes: 8192 };
    const parser = new MultipartParser(
      boundary,
      limits,
      (part) => this.onPart(part),
      (kind, detail) => this.onProblem(kind, detail),
    );
    this.stream = { res, parser };
    this.backoff.authRefused = false;
    this.awaitingFirstPart = true; // up only once a whole part came: a slow-drip camera never is
    this.armIdle();
    res.on('data', (chunk: Buffer) => {
      if (this.stream?.res === res) parser.push(chunk);
    });
    const ended = (err?: Error) => {
      if (this.stream?.res !== res) return;
      this.lost(
        'closed',
        'CAMERA_STREAM_LOST',
        err ?? new GatewayError('CAMERA_STREAM_LOST', 'the camera ended the stream'),
      );
    };
    res.once('end', () => ended());
    res.once('error', ended);
    res.once('close', () => ended());
  }

  /** Older Hikvision firmware answers 404 under /ISAPI: the same stream without it (as pyHik falls back). */
  private async openStream(): Promise<IncomingMessage> {
    try {
      return await this.http.get(this.streamPath(), this.abort.signal);
    } catch (err) {
      const notFound = err instanceof GatewayError && err.detail.status === 404;
      if (!notFound || this.profile.protocol !== 'hikvision-isapi' || this.legacyPath) throw err;
      this.legacyPath = true;
      return this.http.get(this.streamPath(), this.abort.signal);
    }
  }

  private onPart(part: Part): void {
    if (this.awaitingFirstPart) {
      this.awaitingFirstPart = false;
      this.loop.up();
      this.up();
    }
    this.counts.parts += 1;
    this.lastSeenMs = this.ctx.clock.now();
    this.armIdle();
    const decoded = this.decode(part);
    if (decoded.kind === 'heartbeat') this.counts.heartbeats += 1;
    else if (decoded.kind === 'ignored') {
      this.counts.ignored += 1;
      if (decoded.hostile) this.onProblem('malformed', decoded.why);
    } else {
      const held = this.mapper.suppressed;
      const ev = this.mapper.map(decoded);
      if (ev) {
        this.counts.events += 1;
        this.emit(ev);
      } else if (this.mapper.suppressed > held)
        this.problems.report('CAMERA_EVENT_STORM', 'events debounced', { suppressed: this.mapper.suppressed });
    }
  }

  private decode(part: Part): Decoded {
    const type = part.headers['content-type'] ?? '';
    if (/^image\//i.test(type)) return { kind: 'ignored', why: 'picture' };
    return this.profile.protocol === 'hikvision-isapi'
      ? decodeHikvision(type, part.body, this.pulseCodes)
      : decodeDahua(part.body, this.pulseCodes);
  }

  private onProblem(kind: 'oversize' | 'malformed', detail: string): void {
    this.counts[kind] += 1;
    const code: ErrorCode = kind === 'oversize' ? 'CAMERA_PART_TOO_LARGE' : 'CAMERA_STREAM_MALFORMED';
    this.problems.report(code, detail, { count: this.counts[kind] });
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.lost(
        'silent',
        'CAMERA_STREAM_LOST',
        new GatewayError('CAMERA_STREAM_LOST', `no part for ${this.idleMs} ms`),
      );
    }, this.idleMs);
  }

  private up(): void {
    this.downReason = null;
    if (this.online === false)
      this.emit({
        deviceId: this.cfg.id,
        type: 'device.online',
        priority: 'high',
        data: { host: this.cfg.host, protocol: this.profile.protocol, reason: 'stream' },
      });
    this.online = true;
  }

  /** The stream is gone or could not be opened: report it once, then let the loop wait and retry. */
  private lost(reason: DownReason, code: ErrorCode, err: unknown): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const stream = this.stream;
    this.stream = null;
    stream?.res.destroy();
    this.mapper.forgetStates();
    if (!this.running) return;
    this.errors += 1;
    this.lastError = errorMessage(err);
    this.backoff.authRefused = reason === 'auth';
    // Once a loss, and again only when its reason changes: a camera that keeps failing the same way is one report.
    if (this.online !== false || this.downReason !== reason) {
      this.ctx.logger.warn(failure(code, err, { host: this.cfg.host, reason }), 'camera stream down');
      this.emit({
        deviceId: this.cfg.id,
        type: 'device.offline',
        priority: 'high',
        data: {
          host: this.cfg.host,
          protocol: this.profile.protocol,
          reason,
          error: this.lastError,
          code: err instanceof GatewayError ? err.code : (foreignCode(err) ?? null),
        },
      });
    }
    this.online = false;
    this.downReason = reason;
    this.loop.down();
  }

  private emit(ev: EventInput): void {
    emitLogged(this.ctx, ev);
  }

  /** A picture now, through the same client (and digest state) as the stream, one request at a time. */
  capture(channel?: number): Promise<Buffer> {
    if (this.abort.signal.aborted) return Promise.reject(driverStopped(this.cfg.id));
    // A refused password is not tried again for a picture: each try would bring the camera's account lock nearer.
    if (this.downReason === 'auth')
      return Promise.reject(
        new GatewayError(
          'CAMERA_SNAPSHOT_FAILED',
          `${this.cfg.host} refused the password: no picture until it is right`,
        ),
      );
    return this.snapshots.take(channel);
  }

  write(): Promise<void> {
    if (this.abort.signal.aborted) return Promise.reject(driverStopped(this.cfg.id));
    return Promise.reject(new GatewayError('NO_OUTPUT', `camera ${this.cfg.id} has no outputs`));
  }

  async stop(): Promise<void> {
    if (!this.running && this.abort.signal.aborted) return;
    this.running = false;
    this.loop.stop();
    this.abort.abort();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.stream?.res.destroy();
    this.stream = null;
  }

  describe(): DriverDescription {
    const live = this.running && this.online === true;
    return {
      deviceIds: [this.cfg.id],
      driver: 'camera',
      transport: `${this.profile.protocol} ${this.cfg.host}:${this.cfg.port ?? this.profile.defaults.port}`,
      online: live,
      lastSeenMs: this.lastSeenMs,
      errors: this.errors,
      downReason: live ? null : !this.running ? 'stopped' : (this.downReason ?? 'not connected yet'),
      detail: {
        profile: this.profile.id,
        ...this.counts,
        suppressed: this.mapper.suppressed,
        unmapped: this.mapper.unmapped,
        loginsRefused: this.http.refusals,
        reconnects: this.loop.retries,
        buffered: this.stream?.parser.buffered ?? 0,
        lastError: this.lastError,
        snapshots: { ...this.snapshots.counts },
      },
    };
  }
}
