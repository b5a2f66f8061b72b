/**
 * A serial port that comes back: opened by a stable path (/dev/serial/by-id/...), and when
 * it goes away (unplug: `close` with `disconnected`, or any error) reopened with backoff
 * until the device returns (ENOENT meanwhile). No redeploy, no restart.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { Logger } from 'pino';
import { Backoff } from '../../agent/uplink/backoff.js';

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
  lastError: string | null = null;
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff(250, 10_000, 0.2);

  constructor(
    private readonly opts: SerialLineOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  start(): void {
    if (this.state === 'stopped') this.state = 'down';
    this.open();
  }

  private open(): void {
    if (this.state === 'stopped' || this.state === 'opening' || this.state === 'up') return;
    this.state = 'opening';
    const port = new SerialPort({ ...this.opts, autoOpen: false });
    port.open((err) => {
      if (err) {
        this.lastError = err.message;
        this.retry();
        return;
      }
      if (this.state !== 'opening') {
        port.close();
        return;
      }
      this.port = port;
      this.state = 'up';
      this.opens += 1;
      this.backoff.reset();
      port.on('data', (chunk: Buffer) => this.emit('data', chunk));
      port.on('error', (e) => {
        this.lastError = e.message;
        this.lost(e.message);
      });
      port.on('close', (e: (Error & { disconnected?: boolean }) | null) => this.lost(e?.disconnected ? 'disconnected' : (e?.message ?? 'closed')));
      this.logger.info({ path: this.opts.path }, 'serial line open');
      this.emit('up');
    });
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

  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
