/**
 * A GSM modem at the device end of a pty pair: answers AT commands like a SIMCom/Quectel
 * module (echo until ATE0, OK/ERROR, +CME/+CMS ERROR with AT+CMEE=1), shows the "> "
 * prompt for AT+CMGS, takes the body up to Ctrl-Z, and records every message, decoding
 * UCS2 hex. Failures can be scripted (`failNext`), and the modem can hang (`silent`).
 */
import { SerialPort } from 'serialport';
import { fromUcs2Hex } from '../../drivers/modem/sms-encoding.js';

export interface SentSms {
  number: string;
  text: string;
  charset: string;
  rawNumber: string;
  rawBody: string;
}

export class ModemSimulator {
  readonly sent: SentSms[] = [];
  readonly commands: string[] = [];
  rssi = 20;
  creg = 1;
  cereg = 1;
  /** The next AT+CMGS answers with these +CMS ERROR codes, one per attempt. */
  failNext: number[] = [];
  /** A hung modem (it happens after a brownout): commands are recorded, nothing is answered. */
  silent = false;
  /** Errors of the simulator's own port (a write to an unplugged line), kept for the tests to read. */
  readonly errors: string[] = [];
  private echo = true;
  private charset = 'IRA';
  private buf = '';
  private body: { number: string } | null = null;
  private port: SerialPort | null = null;
  private reference = 40;

  constructor(private readonly path: string) {}

  async open(): Promise<this> {
    const port = new SerialPort({ path: this.path, baudRate: 115200, autoOpen: false });
    port.on('error', (err) => this.errors.push(err.message)); // an unplug is part of the tests
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (d: Buffer) => this.onData(d.toString('latin1')));
    this.port = port;
    return this;
  }

  private say(text: string): void {
    if (this.silent) return;
    this.port?.write(text, 'latin1');
  }

  private onData(text: string): void {
    this.buf += text;
    for (;;) {
      if (this.body) {
        const z = this.buf.indexOf('\x1a');
        const esc = this.buf.indexOf('\x1b');
        if (esc !== -1 && (z === -1 || esc < z)) {
          this.buf = this.buf.slice(esc + 1);
          this.body = null;
          this.say('\r\nOK\r\n');
          continue;
        }
        if (z === -1) return;
        const raw = this.buf.slice(0, z);
        this.buf = this.buf.slice(z + 1);
        this.finishSms(raw);
        continue;
      }
      const idx = this.buf.indexOf('\r');
      if (idx === -1) return;
      const cmd = this.buf.slice(0, idx).replace(/^\n/, '').trim();
      this.buf = this.buf.slice(idx + 1);
      if (cmd) this.command(cmd);
    }
  }

  private command(cmd: string): void {
    this.commands.push(cmd);
    if (this.echo) this.say(`${cmd}\r\n`);
    const ok = () => this.say('\r\nOK\r\n');
    let m: RegExpExecArray | null;
    if (
      cmd === 'AT' ||
      cmd === 'AT+CMEE=1' ||
      cmd === 'AT+CMGF=1' ||
      cmd.startsWith('AT+CNMI=') ||
      cmd.startsWith('AT+CSMP=')
    )
      ok();
    else if (cmd === 'ATE0') {
      this.echo = false;
      ok();
    } else if ((m = /^AT\+CSCS="(\w+)"$/.exec(cmd))) {
      this.charset = m[1]!;
      ok();
    } else if (cmd === 'AT+CSQ') this.say(`\r\n+CSQ: ${this.rssi},99\r\n\r\nOK\r\n`);
    else if (cmd === 'AT+CREG?') this.say(`\r\n+CREG: 0,${this.creg}\r\n\r\nOK\r\n`);
    else if (cmd === 'AT+CEREG?') this.say(`\r\n+CEREG: 0,${this.cereg}\r\n\r\nOK\r\n`);
    else if ((m = /^AT\+CMGS="([0-9A-F+]+)"$/.exec(cmd))) {
      this.body = { number: m[1]! };
      this.say('\r\n> ');
    } else this.say('\r\nERROR\r\n');
  }

  private finishSms(raw: string): void {
    const { number } = this.body!;
    this.body = null;
    const fail = this.failNext.shift();
    if (fail !== undefined) return this.say(`\r\n+CMS ERROR: ${fail}\r\n`);
    const ucs2 = this.charset === 'UCS2';
    this.sent.push({
      number: ucs2 ? fromUcs2Hex(number) : number,
      text: ucs2 ? fromUcs2Hex(raw) : raw,
      charset: this.charset,
      rawNumber: number,
      rawBody: raw,
    });
    this.say(`\r\n+CMGS: ${this.reference++}\r\n\r\nOK\r\n`);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
