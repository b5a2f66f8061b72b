/**
 * A device on a serial line (a 433 MHz receiver, a decoder module, rtl_433): bytes ->
 * records (lines or frames) -> fields -> events, as its profile says. Garbage is counted
 * and logged at a bounded rate, never a crash; the line is reopened after an unplug and
 * the device reports offline and online.
 */
import { emitLogged } from '../emit-logged.js';
import type { EventInput } from '../../core/contracts/event.js';
import type { Driver, DriverContext, DriverDescription, OutputCommand } from '../../core/contracts/driver.js';
import { GatewayError, failure } from '../../core/kernel/errors.js';
import { driverStopped } from '../stopped.js';
import type { SerialDeviceConfig } from '../../config/schema/devices.js';
import type { SerialProfile } from '../../config/schema/profile.js';
import { EventMapper } from './event-mapper.js';
import { FrameFramer } from './frame-framer.js';
import { LineFramer } from './line-framer.js';
import { recordDecoder, type Fields } from './record-decoder.js';
import { SerialLine } from './serial-line.js';

const GARBAGE_LOG_EVERY_MS = 60_000;

export class SerialDeviceDriver implements Driver {
  readonly line: SerialLine;
  readonly mapper: EventMapper;
  undecodable = 0;
  private readonly lines: LineFramer | null;
  private readonly frames: FrameFramer | null;
  private readonly decode: (r: string | Buffer) => Fields | null;
  private expiry: NodeJS.Timeout | null = null;
  private lastSeenMs: number | null = null;
  private wasUp = false;
  private lastGarbageLogMs = -Infinity;
  private garbageSinceLog = 0;
  /** offlineAfterSec: when the last decoded record came (monotonic), and whether silence was reported. */
  private lastRecordMono = 0;
  private silence: NodeJS.Timeout | null = null;
  private silent = false;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly ctx: DriverContext<SerialDeviceConfig>,
    private readonly profile: SerialProfile,
  ) {
    const c = ctx.config;
    this.line = new SerialLine(
      {
        path: c.path,
        baudRate: c.baudRate ?? profile.defaults.baudRate,
        dataBits: c.dataBits,
        stopBits: c.stopBits,
        parity: c.parity,
      },
      ctx.logger,
    );
    const f = profile.framing;
    this.lines = f.kind === 'line' ? new LineFramer(f.delimiter, f.maxLength) : null;
    this.frames =
      f.kind === 'frame'
        ? new FrameFramer({
            maxLength: f.maxLength,
            interByteTimeoutMs: f.interByteTimeoutMs,
            ...(f.header ? { header: f.header } : {}),
            ...(f.footer ? { footer: f.footer } : {}),
            ...(f.length ? { length: f.length } : {}),
          })
        : null;
    this.decode = recordDecoder(profile.decode);
    this.mapper = new EventMapper(profile, c);
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.started || this.stopping) return;
    this.started = true;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.line.on('data', (chunk) => this.onData(chunk));
    this.line.on('up', () => {
      if (this.wasUp)
        this.emit({
          deviceId: this.ctx.config.id,
          type: 'device.online',
          priority: 'high',
          data: { path: this.ctx.config.path },
        });
      this.wasUp = true;
      this.silent = false;
      this.lastRecordMono = this.ctx.clock.monoMs(); // silence is counted from the port opening
      this.armSilence();
    });
    this.line.on('down', (reason) => {
      this.disarmSilence();
      this.emit({
        deviceId: this.ctx.config.id,
        type: 'device.offline',
        priority: 'high',
        data: { path: this.ctx.config.path, reason },
      });
    });
    if (this.frames) {
      const frames = this.frames;
      this.expiry = setInterval(() => frames.expire(this.ctx.clock.monoMs()), 25);
    }
    this.line.start();
  }

  /** Feeds raw bytes (the port's, or a test's). */
  onData(chunk: Buffer): void {
    const before = this.garbage();
    const now = this.ctx.clock.monoMs();
    if (this.lines) this.lines.push(chunk, (l) => this.onRecord(l, now));
    else this.frames!.push(chunk, now, (fr) => this.onRecord(fr, now));
    this.noteGarbage(this.garbage() - before);
  }

  private onRecord(record: string | Buffer, now: number): void {
    if (this.profile.ack) this.line.write(Buffer.from(this.profile.ack));
    const fields = this.decode(record);
    if (!fields) {
      this.undecodable += 1;
      return;
    }
    this.lastSeenMs = this.ctx.clock.now();
    this.lastRecordMono = now;
    if (this.silent) {
      // Reported before the record's own event, so the county sees the device back first.
      this.silent = false;
      this.emit({
        deviceId: this.ctx.config.id,
        type: 'device.online',
        priority: 'high',
        data: { path: this.ctx.config.path, reason: 'record' },
      });
      this.armSilence();
    }
    const ev = this.mapper.map(fields, now);
    if (ev) this.emit(ev);
  }

  /**
   * offlineAfterSec: a receiver whose port is open but that decodes nothing for that long (a
   * dead RF module, every sensor out of range) is reported `device.offline` (reason silent),
   * once per silence. One timer, re-armed lazily rather than reset on every record.
   */
  private armSilence(): void {
    const limitMs = (this.ctx.config.offlineAfterSec ?? 0) * 1000;
    if (limitMs <= 0 || this.silence) return;
    const check = () => {
      this.silence = null;
      if (this.line.state !== 'up') return;
      const quietMs = this.ctx.clock.monoMs() - this.lastRecordMono;
      if (quietMs < limitMs) {
        this.silence = setTimeout(check, limitMs - quietMs);
        return;
      }
      this.silent = true;
      this.ctx.logger.warn(
        failure('DEVICE_SILENT', null, { path: this.ctx.config.path, silentForSec: Math.round(quietMs / 1000) }),
        'serial device silent; reported offline',
      );
      this.emit({
        deviceId: this.ctx.config.id,
        type: 'device.offline',
        priority: 'high',
        data: { path: this.ctx.config.path, reason: 'silent', silentForSec: Math.round(quietMs / 1000) },
      });
    };
    this.silence = setTimeout(check, Math.max(0, limitMs - (this.ctx.clock.monoMs() - this.lastRecordMono)));
  }

  private disarmSilence(): void {
    if (this.silence) clearTimeout(this.silence);
    this.silence = null;
  }

  /** Every kind of garbage, exactly counted. */
  garbage(): number {
    const l = this.lines?.counters;
    const f = this.frames?.counters;
    return this.undecodable + (l ? l.overlong + l.invalidUtf8 : 0) + (f ? f.partial + f.overlong + f.badFooter : 0);
  }

  counters(): Record<string, number> {
    return {
      ...(this.lines?.counters ?? {}),
      ...(this.frames?.counters ?? {}),
      undecodable: this.undecodable,
      ...this.mapper.counters,
    };
  }

  /** Garbage is logged at most once a minute, with how much there was. */
  private noteGarbage(n: number): void {
    if (n <= 0) return;
    this.garbageSinceLog += n;
    const now = this.ctx.clock.monoMs();
    if (now - this.lastGarbageLogMs < GARBAGE_LOG_EVERY_MS) return;
    this.ctx.logger.warn(
      failure('SERIAL_GARBAGE', null, { garbage: this.garbageSinceLog, counters: this.counters() }),
      'serial garbage received',
    );
    this.lastGarbageLogMs = now;
    this.garbageSinceLog = 0;
  }

  private emit(ev: EventInput): void {
    emitLogged(this.ctx, ev);
  }

  async write(cmd: OutputCommand): Promise<void> {
    if (this.stopping) throw driverStopped(this.ctx.config.id);
    throw new GatewayError('NO_OUTPUT', `serial device ${cmd.deviceId} (${this.profile.id}) has no outputs`);
  }

  /** Idempotent: every caller (the abort signal, the agent) waits for the same close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.disarmSilence();
      if (this.expiry) clearInterval(this.expiry);
      this.expiry = null;
      await this.line.stop();
    })();
    return this.stopping;
  }

  describe(): DriverDescription {
    return {
      deviceIds: [this.ctx.config.id, ...Object.values(this.ctx.config.sensors).map((s) => s.id)],
      driver: 'serial',
      transport: `serial ${this.ctx.config.path}`,
      online: this.line.state === 'up' && !this.silent,
      lastSeenMs: this.lastSeenMs,
      errors: this.garbage(),
      downReason:
        this.line.state !== 'up'
          ? `port ${this.line.state}${this.line.lastError ? `: ${this.line.lastError}` : ''}`
          : this.silent
            ? 'silent: no record decoded for offlineAfterSec'
            : null,
      detail: {
        profile: this.profile.id,
        ...(this.silent ? { silent: true } : {}),
        ...this.counters(),
        portErrors: this.line.errors,
        lastPortError: this.line.lastError,
      },
    };
  }
}
