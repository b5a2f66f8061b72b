/**
 * The AT command channel: one command at a time, each with a timeout; answers are the
 * lines up to a final result (OK, ERROR, +CME ERROR: n, +CMS ERROR: n). AT+CMGS waits for
 * the "> " prompt (CR LF '>' space, no line end), then sends the body and Ctrl-Z. Lines
 * that arrive when no command is waiting (RING, +CMTI, +CLIP) are unsolicited (URCs).
 */
import { EventEmitter } from 'node:events';
import { GatewayError } from '../../core/kernel/errors.js';
import type { ErrorCode } from '../../core/kernel/errors.js';
import { cmsErrorText, cmsRetryable } from './modem-status.js';

export interface AtPort {
  write(bytes: Buffer): void;
}

export interface AtResult {
  lines: string[];
}

/**
 * A failed AT command. A +CMS cause is retryable when it is the network's or the SIM's passing
 * state (congestion, SIM busy), not a wrong number or a missing SIM; the cause goes in `detail.cms`.
 */
export class AtError extends GatewayError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly kind: 'ERROR' | 'CME' | 'CMS' | 'TIMEOUT',
    readonly number: number | null,
  ) {
    super(code, message, {
      retryable: kind !== 'CMS' || cmsRetryable(number ?? 0),
      detail: kind === 'CMS' ? { cms: number } : {},
    });
  }
}

interface Pending {
  command: string;
  lines: string[];
  prompt: ((ok: true) => void) | null;
  resolve: (r: AtResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const FINAL = /^(OK|ERROR|\+CME ERROR: ?(.+)|\+CMS ERROR: ?(.+)|NO CARRIER|BUSY|NO ANSWER)$/;
const CTRL_Z = 0x1a;
const ESC = 0x1b;

export class AtChannel extends EventEmitter<{ urc: [string] }> {
  private buf = '';
  private pending: Pending | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** Set once the channel is closed: every command fails at once with it. */
  private closed: AtError | null = null;

  constructor(
    private port: AtPort,
    private readonly timeoutMs = 5000,
  ) {
    super();
  }

  /** A new port after a reconnect: anything in flight failed with the old one. */
  attach(port: AtPort): void {
    this.port = port;
    this.lineLost();
  }

  /** The line went away: the command in flight fails now, not when its timeout (up to a minute for an SMS) ends. */
  lineLost(): void {
    this.buf = '';
    this.fail(new AtError('MODEM_GONE', 'the modem line was lost', 'TIMEOUT', null));
  }

  /** No more commands: the one in flight and every later one fail at once with MODEM_STOPPED. */
  close(): void {
    this.closed ??= new AtError('MODEM_STOPPED', 'the modem driver is stopped', 'TIMEOUT', null);
    this.fail(this.closed);
  }

  private fail(err: AtError): void {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    clearTimeout(p.timer); // else it would fire later and clear whichever command is pending then
    p.reject(err);
  }

  /** Feeds bytes from the modem. */
  onData(chunk: Buffer): void {
    this.buf += chunk.toString('latin1');
    for (;;) {
      if (this.pending?.prompt && /(^|\r\n)> $/.test(this.buf)) {
        const wake = this.pending.prompt;
        this.pending.prompt = null;
        this.buf = '';
        wake(true);
        return;
      }
      const idx = this.buf.indexOf('\r\n');
      if (idx === -1) return;
      const line = this.buf.slice(0, idx).trim();
      this.buf = this.buf.slice(idx + 2);
      if (line) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (!p) return void this.emit('urc', line);
    if (line === p.command) return; // echo (before ATE0 took effect)
    const m = FINAL.exec(line);
    if (!m) {
      if (/^(RING|\+CMTI:|\+CLIP:|\+CMT:|\+CRING:)/.test(line)) this.emit('urc', line);
      else p.lines.push(line);
      return;
    }
    clearTimeout(p.timer);
    this.pending = null;
    if (m[1] === 'OK') return p.resolve({ lines: p.lines });
    if (m[3] !== undefined) {
      const n = Number(m[3]);
      return p.reject(
        new AtError(
          'SMS_ERROR',
          `+CMS ERROR: ${m[3]} (${Number.isFinite(n) ? cmsErrorText(n) : m[3]})`,
          'CMS',
          Number.isFinite(n) ? n : null,
        ),
      );
    }
    if (m[2] !== undefined)
      return p.reject(
        new AtError('MODEM_ERROR', `+CME ERROR: ${m[2]}`, 'CME', Number.isFinite(Number(m[2])) ? Number(m[2]) : null),
      );
    p.reject(new AtError('MODEM_ERROR', `${p.command}: ${line}`, 'ERROR', null));
  }

  /** Sends a command and resolves with its answer lines. */
  command(command: string, timeoutMs = this.timeoutMs): Promise<AtResult> {
    return this.queue(() => this.exchange(command, timeoutMs, null));
  }

  /** A command that takes a body after the "> " prompt (AT+CMGS): body, then Ctrl-Z. */
  commandWithBody(command: string, body: string, timeoutMs = 60_000): Promise<AtResult> {
    return this.queue(() => this.exchange(command, timeoutMs, body));
  }

  private queue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined); // the caller gets the rejection through `run`; the chain only keeps the order
    return run;
  }

  private exchange(command: string, timeoutMs: number, body: string | null): Promise<AtResult> {
    return new Promise<AtResult>((resolve, reject) => {
      if (this.closed) return reject(this.closed);
      const timer = setTimeout(() => {
        if (this.pending === entry) this.pending = null;
        if (body !== null) this.port.write(Buffer.from([ESC])); // abandon a half-sent message
        reject(new AtError('MODEM_TIMEOUT', `${command}: no answer within ${timeoutMs} ms`, 'TIMEOUT', null));
      }, timeoutMs);
      const entry: Pending = {
        command,
        lines: [],
        prompt:
          body === null
            ? null
            : () => this.port.write(Buffer.concat([Buffer.from(body, 'latin1'), Buffer.from([CTRL_Z])])),
        resolve,
        reject,
        timer,
      };
      this.pending = entry;
      this.port.write(Buffer.from(`${command}\r`, 'latin1'));
    });
  }
}
