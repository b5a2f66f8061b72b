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
import { Backoff } from '../../agent/kernel/backoff.js';
import { settleWithin } from '../stopped.js';

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
  state: 'down' | 'opening' | 'up' | 'stopped' = 'down';
  opens = 0;
  /** Errors the port reported (write failures, unplugs), each counted and logged. */
  errors = 0;
  lastError: string | null = null;
  private port: SerialPort | null = null;
  /** The open in progress, settled once its callback has run (and closed the port if we stopped meanwhile). */
  private attempt: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff(250, 10_000, 0.2);

  constructor(
    private readonly opts: SerialLineOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  start(): void {
    if (this.state === 'stopped') {
      this.state = 'down';
      this.stopping = null;
    }
    this.open();
  }

  private open(): void {
    if (this.state === 'stopped' || this.state === 'opening' || this.state === 'up') return;
    this.state = 'opening';
    const port = new SerialPort({ ...this.opts, autoOpen: false });
    port.on('error', (e) => this.portError(port, e));
    this.attempt = new Promise<void>((settle) =>
      port.open((err) => {
        if (err) {
          this.lastError = err.message;
          this.retry();
          return settle();
        }
        if (this.state !== 'opening') {
          port.close(() => settle()); // stopped while opening
          return;
        }
        this.port = port;
        this.state = 'up';
        this.opens += 1;
        this.backoff.reset();
        port.on('data', (chunk: Buffer) => this.emit('data', chunk));
        port.on('close', (e: (Error & { disconnected?: boolean }) | null) => this.lost(e?.disconnected ? 'disconnected' : (e?.message ?? 'closed')));
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
    this.logger.warn({ path: this.opts.path, err: e.message, current }, 'serial port error');
    if (current) this.lost(e.message);
  }

  private lost(reason: string): void {
    if (this.state !== 'up') return;
    const port = this.port;
    this.port = null;
    port?.removeAllListeners('data');
    if (port?.isOpen) port.close(() => {});
    this.logger.warn({ path: this.opts.path, reason }, 'serial line lost; reopening');
    this.state = 'down';
    this.emit('down', reason);
    this.retry();
  }

  private retry(): void {
    if (this.state === 'stopped') return;
    this.state = 'down';
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, this.backoff.next());
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
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const closed = (async () => {
      await this.attempt; // a port still opening is closed by its own callback
      const port = this.port;
      this.port = null;
      if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    })();
    if (!(await settleWithin(closed, CLOSE_LIMIT_MS))) this.logger.warn({ path: this.opts.path, limitMs: CLOSE_LIMIT_MS }, 'serial port did not close in time');
  }
}
