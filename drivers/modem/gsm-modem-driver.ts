/**
 * A GSM/LTE modem on a serial line: reports signal and registration (events when they
 * change), and sends SMS (GSM text or UCS2 for Chinese, split into parts as needed).
 * The local alarms' SMS fallback drives `sendSms` (the SmsSender port); the line comes back after an unplug
 * like any other.
 */
import { emitLogged } from '../emit-logged.js';
import type { EventInput } from '../../core/contracts/event.js';
import type { Driver, DriverContext, DriverDescription, OutputCommand } from '../../core/contracts/driver.js';
import { GatewayError, failure } from '../../core/kernel/errors.js';
import { PHONE_NUMBER, type SmsReceipt, type SmsSender } from '../../core/contracts/sms.js';
import type { ModemDeviceConfig } from '../../config/schema/devices.js';
import type { ModemProfile } from '../../config/schema/profile.js';
import { SerialLine } from '../serial/serial-line.js';
import { driverStopped } from '../stopped.js';
import { AtChannel, type AtError } from './at-channel.js';
import { csqToDbm, parseCsq, parseRegistration } from './modem-status.js';
import { chooseEncoding, splitSms, ucs2Hex } from './sms-encoding.js';

export interface ModemStatus {
  rssi: number | null;
  dbm: number | null;
  registration: string | null;
  registered: boolean;
}

export class GsmModemDriver implements Driver, SmsSender {
  readonly line: SerialLine;
  readonly at: AtChannel;
  status: ModemStatus = { rssi: null, dbm: null, registration: null, registered: false };
  smsSent = 0;
  smsFailed = 0;
  private timer: NodeJS.Timeout | null = null;
  private errors = 0;
  private lastSeenMs: number | null = null;
  private isReady = false;
  private wasUp = false;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly ctx: DriverContext<ModemDeviceConfig>,
    private readonly profile: ModemProfile,
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
    this.at = new AtChannel(this.line);
    this.line.on('data', (d) => this.at.onData(d));
    this.at.on('urc', (l) => this.ctx.logger.info({ urc: l }, 'modem says'));
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.started || this.stopping) return;
    this.started = true;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.line.on('up', () => {
      // Back after an unplug: said as for serial devices, so the county sees it come back.
      if (this.wasUp)
        this.emit({
          deviceId: this.ctx.config.id,
          type: 'device.online',
          priority: 'high',
          data: { path: this.ctx.config.path },
        });
      this.wasUp = true;
      this.at.attach(this.line);
      void this.initialise();
    });
    this.line.on('down', (reason) => {
      this.isReady = false;
      this.at.lineLost(); // an SMS in flight fails now (and is retried by its queue), not after its timeout
      this.emit({
        deviceId: this.ctx.config.id,
        type: 'device.offline',
        priority: 'high',
        data: { path: this.ctx.config.path, reason },
      });
    });
    this.line.start();
  }

  private async initialise(): Promise<void> {
    try {
      for (const cmd of this.profile.init) await this.at.command(cmd);
      this.isReady = true;
      await this.poll();
    } catch (err) {
      this.errors += 1;
      this.ctx.logger.warn(failure('MODEM_NOT_READY', err), 'modem initialisation failed');
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.line.state === 'stopped') return;
    this.timer = setTimeout(
      () => void this.poll().finally(() => this.schedule()),
      this.ctx.config.statusPollSec * 1000,
    );
  }

  /** Reads signal and registration; an event when registration changes. */
  async poll(): Promise<ModemStatus> {
    try {
      const csq = parseCsq((await this.at.command('AT+CSQ')).lines);
      let reg: ReturnType<typeof parseRegistration> = null;
      for (const kind of this.profile.registration) {
        const r = parseRegistration((await this.at.command(`AT+${kind}?`)).lines, kind);
        // Registered on any of them wins; else the more telling state (denied, searching) over "not registered".
        if (r && (!reg || r.registered || (!reg.registered && reg.stat === 0))) reg = r;
      }
      this.lastSeenMs = this.ctx.clock.now();
      const next: ModemStatus = {
        rssi: csq?.rssi ?? null,
        dbm: csq ? csqToDbm(csq.rssi, this.profile.csq) : null,
        registration: reg?.state ?? null,
        registered: reg?.registered ?? false,
      };
      const changed = next.registration !== this.status.registration;
      this.status = next;
      if (changed)
        this.emit({
          deviceId: this.ctx.config.id,
          type: 'modem.registration',
          priority: next.registered ? 'normal' : 'high',
          data: { ...next },
        });
    } catch (err) {
      this.errors += 1;
      this.ctx.logger.warn(failure('MODEM_ERROR', err), 'modem status poll failed');
    }
    return this.status;
  }

  get ready(): boolean {
    return this.isReady && this.line.state === 'up';
  }

  /** Sends one SMS (in parts when long). Rejects with the modem's +CMS ERROR, meaning included. */
  async sendSms(number: string, text: string): Promise<SmsReceipt> {
    if (!PHONE_NUMBER.test(number)) throw new GatewayError('INVALID_NUMBER', `not a phone number: "${number}"`);
    if (!this.isReady)
      throw new GatewayError('MODEM_NOT_READY', `modem ${this.ctx.config.id} is not ready (${this.line.state})`);
    const encoding = chooseEncoding(text);
    const sms = this.profile.sms;
    const references: number[] = [];
    try {
      await this.at.command('AT+CMGF=1');
      await this.at.command(`AT+CSCS="${encoding === 'ucs2' ? 'UCS2' : 'IRA'}"`);
      await this.at.command(`AT+CSMP=${encoding === 'ucs2' ? sms.ucs2Csmp : sms.gsmCsmp}`);
      for (const part of splitSms(text, encoding)) {
        const to = encoding === 'ucs2' ? ucs2Hex(number) : number;
        const body = encoding === 'ucs2' ? ucs2Hex(part) : part;
        const res = await this.at.commandWithBody(`AT+CMGS="${to}"`, body, sms.sendTimeoutMs);
        const ref = res.lines.map((l) => /^\+CMGS:\s*(\d+)/.exec(l)).find(Boolean);
        references.push(ref ? Number(ref[1]) : -1);
      }
      this.smsSent += 1;
      return { parts: references.length, references, encoding };
    } catch (err) {
      this.smsFailed += 1;
      throw err as AtError;
    }
  }

  async write(cmd: OutputCommand): Promise<void> {
    if (this.stopping) throw driverStopped(this.ctx.config.id);
    throw new GatewayError('NO_OUTPUT', `modem ${cmd.deviceId} has no outputs; use sendSms`);
  }

  private emit(ev: EventInput): void {
    emitLogged(this.ctx, ev);
  }

  /**
   * Idempotent: every caller waits for the same close. Commands in flight or queued (an SMS,
   * a status poll) fail at once with MODEM_STOPPED instead of waiting out their timeouts.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.isReady = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.at.close();
      await this.line.stop();
    })();
    return this.stopping;
  }

  describe(): DriverDescription {
    return {
      deviceIds: [this.ctx.config.id],
      driver: 'modem',
      transport: `serial ${this.ctx.config.path}`,
      online: this.ready,
      lastSeenMs: this.lastSeenMs,
      errors: this.errors,
      downReason: this.ready
        ? null
        : this.line.state !== 'up'
          ? `port ${this.line.state}${this.line.lastError ? `: ${this.line.lastError}` : ''}`
          : 'modem not answering its AT initialisation',
      detail: {
        profile: this.profile.id,
        ...this.status,
        smsSent: this.smsSent,
        smsFailed: this.smsFailed,
        portErrors: this.line.errors,
        lastPortError: this.line.lastError,
      },
    };
  }
}
