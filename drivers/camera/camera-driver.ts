/**
 * A networked camera: Hikvision ISAPI alertStream and Dahua CGI eventManager attach (one
 * long-lived multipart stream, multipart-stream.ts) or ONVIF PullPoint (onvif-pullpoint.ts).
 * This part is the same for all: any answer from the camera resets the idle timer; a
 * connection that ends, goes silent or cannot be made is reported offline with its reason
 * and made again through the shared reconnect loop. A refused password waits long and longer
 * (authRetry) before the next try, so the camera never locks its account. The profile decides
 * what each vendor code is (camera-event-mapper.ts); a state the camera never ends is ended
 * after the state timeout.
 */
import type { Driver, DriverContext, DriverDescription } from '../../core/contracts/driver.js';
import type { EventInput } from '../../core/contracts/event.js';
import type { CameraDeviceConfig } from '../../config/schema/devices.js';
import type { CameraProfile } from '../../config/schema/profile.js';
import { Backoff } from '../../core/kernel/backoff.js';
import { errorMessage, failure, foreignCode, GatewayError, type ErrorCode } from '../../core/kernel/errors.js';
import { ReconnectLoop } from '../../core/kernel/reconnect-loop.js';
import { emitLogged } from '../emit-logged.js';
import { driverStopped } from '../stopped.js';
import { CameraBackoff } from './camera-backoff.js';
import type { Decoded } from './camera-event.js';
import { CameraEventMapper } from './camera-event-mapper.js';
import { CameraHttp } from './camera-http.js';
import { CameraSnapshots } from './camera-snapshot.js';
import type { CameraStream, DownReason, StreamHost } from './camera-stream.js';
import { MultipartStream } from './multipart-stream.js';
import { PullPointStream } from './onvif-pullpoint.js';
import { ProblemLog } from './problem-log.js';

/** How often open states are checked against the state timeout. */
const EXPIRE_EVERY_MS = 1000;

export class CameraDriver implements Driver, StreamHost {
  readonly http: CameraHttp;
  readonly idleMs: number;
  private readonly cfg: CameraDeviceConfig;
  private readonly snapshots: CameraSnapshots;
  private readonly mapper: CameraEventMapper;
  private readonly backoff: CameraBackoff;
  private readonly loop: ReconnectLoop;
  private readonly problems: ProblemLog;
  private readonly stream: CameraStream;
  private readonly abort = new AbortController();
  private idleTimer: NodeJS.Timeout | null = null;
  private expireTimer: NodeJS.Timeout | null = null;
  private awaitingFirst = false;
  private stopping: Promise<void> | null = null;
  private running = false;
  private online: boolean | null = null;
  private lastSeenMs: number | null = null;
  private lastError: string | null = null;
  private downReason: DownReason | null = null;
  private errors = 0;
  private readonly counts = { parts: 0, heartbeats: 0, events: 0, ignored: 0, oversize: 0, malformed: 0 };

  constructor(
    readonly ctx: DriverContext<CameraDeviceConfig>,
    readonly profile: CameraProfile,
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
    this.stream = profile.protocol === 'onvif' ? new PullPointStream(this, password) : new MultipartStream(this);
    const snap = profile.snapshot;
    const timeoutMs = this.cfg.snapshotTimeoutMs ?? (snap?.timeoutSec ?? 10) * 1000;
    const fromCamera = this.stream.snapshotPath?.bind(this.stream);
    const path = snap?.path ?? fromCamera;
    const spec = path ? { path, maxBytes: snap?.maxBytes ?? 1024 * 1024, timeoutMs } : undefined;
    this.snapshots = new CameraSnapshots(this.http, spec, this.cfg.host, this.abort.signal);
    const debounceMs = this.cfg.debounceMs ?? profile.defaults.debounceSec * 1000;
    const stateTimeoutMs = (this.cfg.stateTimeoutSec ?? profile.defaults.stateTimeoutSec) * 1000;
    const now = () => ctx.clock.monoMs();
    this.mapper = new CameraEventMapper(this.cfg.id, profile, debounceMs, this.cfg.channels, now, stateTimeoutMs);
    this.problems = new ProblemLog(ctx.logger, now);
    const auth = new Backoff(this.cfg.authRetry.minMs, this.cfg.authRetry.maxMs, 0.1);
    this.backoff = new CameraBackoff(this.cfg.reconnect, auth);
    this.loop = new ReconnectLoop({ backoff: this.backoff, attempt: () => void this.stream.open() });
  }

  get stopped(): AbortSignal {
    return this.abort.signal;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running || this.abort.signal.aborted) return;
    this.running = true;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.expireTimer = setInterval(() => this.expireStates(), EXPIRE_EVERY_MS);
    this.expireTimer.unref();
    this.loop.start();
  }

  /** Open states the camera did not repeat within the state timeout end with reason `timeout`. */
  expireStates(): void {
    for (const ev of this.mapper.expire()) this.emit(ev);
  }

  accepted(): void {
    this.backoff.authRefused = false;
    this.awaitingFirst = true; // up only once the camera said something whole
    this.armIdle();
  }

  alive(): void {
    if (!this.running) return;
    if (this.awaitingFirst) {
      this.awaitingFirst = false;
      this.loop.up();
      this.up();
    }
    this.lastSeenMs = this.ctx.clock.now();
    this.armIdle();
  }

  report(decoded: Decoded): void {
    this.counts.parts += 1;
    if (decoded.kind === 'heartbeat') this.counts.heartbeats += 1;
    else if (decoded.kind === 'ignored') {
      this.counts.ignored += 1;
      if (decoded.hostile) this.problem('malformed', decoded.why);
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

  problem(kind: 'oversize' | 'malformed', detail: string): void {
    this.counts[kind] += 1;
    const code: ErrorCode = kind === 'oversize' ? 'CAMERA_PART_TOO_LARGE' : 'CAMERA_STREAM_MALFORMED';
    this.problems.report(code, detail, { count: this.counts[kind] });
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const unit = this.profile.protocol === 'onvif' ? 'pull answer' : 'part';
      const what = new GatewayError('CAMERA_STREAM_LOST', `no ${unit} for ${this.idleMs} ms`);
      this.lost('silent', 'CAMERA_STREAM_LOST', what);
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

  /** The connection is gone or could not be made: report it once, then let the loop wait and retry. */
  lost(reason: DownReason, code: ErrorCode, err: unknown): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.stream.close();
    if (!this.running) return;
    // What was on is unknown now: ended explicitly (reason lost), so a start after the reconnect is reported.
    for (const ev of this.mapper.endAll()) this.emit(ev);
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

  /** One stop for all callers: a second call waits for the first (its unsubscribe) to finish. */
  stop(): Promise<void> {
    this.stopping ??= this.halt();
    return this.stopping;
  }

  private async halt(): Promise<void> {
    this.running = false;
    this.loop.stop();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.expireTimer) clearInterval(this.expireTimer);
    this.idleTimer = null;
    this.expireTimer = null;
    const farewell = this.stream.stop?.(); // told before the abort: an ONVIF unsubscribe, bounded
    this.abort.abort();
    this.stream.close();
    await farewell;
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
        ...this.stream.detail(),
        lastError: this.lastError,
        snapshots: { ...this.snapshots.counts },
      },
    };
  }
}
