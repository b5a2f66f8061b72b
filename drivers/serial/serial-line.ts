/**
 * A serial port that comes back: opened by a stable path (/dev/serial/by-id/...), and when
 * it goes away (unplug: `close` with `disconnected`, or any error) reopened with backoff
 * until the device returns (ENOENT meanwhile). No redeploy, no restart.
 *
 * Every SerialPort gets its error listener when it is created, not once it is open: a
 * port closed while opening, or a write cancelled by a close, reports on 'error' too.
 * stop() is idempotent (every caller waits for the same close) and bounded.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { Logger } from 'pino';
import { Backoff } from '../../core/kernel/backoff.js';
import { ReconnectLoop } from '../../core/kernel/reconnect-loop.js';
import { settleWithin } from '../../core/kernel/settle.js';
import { failure } from '../../core/kernel/errors.js';

/** A close (or an open in progress) that takes longer is given up on, and logged. */
const CLOSE_LIMIT_MS = 2000;

export interface SerialLineOptions {
  path: string;
  baudRate: number;
  dataBits: 7 | 8;
  stopBits: 1 | 2;
  parity: 'none' | 'even' | 'odd';
}

export class SerialLine extends EventEmitter<{ data: [Buffer]; up: []; down: [string] }> {
  /** Errors the port reported (write failures, unplugs), each counted and logged. */
  errors = 0;
  lastError: string | null = null;
  private port: SerialPort | null = null;
  /** The open in progress, settled once its callback has run (and closed the port if we stopped meanwhile). */
  private attempt: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  /** Reopens with backoff until the device is back (every open fails with ENOENT meanwhile). */
  private readonly loop = new ReconnectLoop({ backoff: new Backoff(250, 10_000, 0.2), attempt: () => this.open() });

  constructor(
    private readonly opts: SerialLineOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  get state(): 'down' | 'opening' | 'up' | 'stopped' {
    const s = this.loop.state;
    return s === 'connecting' ? 'opening' : s;
  }

  /** Times the port opened. */
  get opens(): number {
    return this.loop.ups;
  }

  start(): void {
    if (this.state === 'stopped') this.stopping = null;
    this.loop.start();
  }

  /** One attempt of the loop: a new SerialPort (a closed one is not reopened), reporting to the loop. */
  private open(): void {
    const port = new SerialPort({ ...this.opts, autoOpen: false });
    port.on('error', (e) => this.portError(port, e));
    this.attempt = new Promise<void>((settle) =>
      port.open((err) => {
        if (err) {
          this.lastError = err.message;
          this.loop.down();
          return settle();
        }
        if (this.state !== 'opening') {
          port.close(() => settle()); // stopped while opening
          return;
        }
        this.port = port;
        this.loop.up();
        port.on('data', (chunk: Buffer) => this.emit('data', chunk));
        port.on('close', (e: (Error & { disconnected?: boolean }) | null) =>
          this.lost(e?.disconnected ? 'disconnected' : (e?.message ?? 'closed')),
        );
        this.logger.info({ path: this.opts.path }, 'serial line open');
        this.emit('up');
        settle();
      }),
    );
  }

  private portError(port: SerialPort, e: Error): void {
    this.errors += 1;
    this.lastError = e.message;
    const current = port === this.port;
    this.logger.warn(failure('SERIAL_ERROR', e, { path: this.opts.path, current }), 'serial port error');
    if (current) this.lost(e.message);
  }

  private lost(reason: string): void {
    if (this.state !== 'up') return;
    const port = this.port;
    this.port = null;
    port?.removeAllListeners('data');
    if (port?.isOpen) port.close(() => {});
    this.logger.warn(failure('SERIAL_ERROR', reason, { path: this.opts.path }), 'serial line lost; reopening');
    this.loop.down(); // down (and the reopen scheduled) before the listeners hear of it
    this.emit('down', reason);
  }

  write(bytes: Buffer): void {
    this.port?.write(bytes);
  }

  /** Idempotent: every caller waits for the same close, at most CLOSE_LIMIT_MS. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.loop.stop();
    const closed = (async () => {
      await this.attempt; // a port still opening is closed by its own callback
      const port = this.port;
      this.port = null;
      if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    })();
    if (!(await settleWithin(closed, CLOSE_LIMIT_MS)))
      this.logger.warn(
        failure('TIMEOUT', null, { path: this.opts.path, limitMs: CLOSE_LIMIT_MS }),
        'serial port did not close in time',
      );
  }
}
