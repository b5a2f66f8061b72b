/**
 * One Modbus master per bus: an RS-485 line (RTU) or a TCP host. Requests are serialized
 * (RTU cannot overlap, and the unit id is set inside the same queue, so no request ever
 * goes out with another's id), each has a timeout (modbus-serial's default is none: one
 * silent unit would hang the bus), and the bus reconnects with backoff when the port or
 * socket goes away (modbus-serial does not).
 */
import * as modbusSerial from 'modbus-serial';
import type ModbusRTUDefault from 'modbus-serial';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import { Backoff } from '../../agent/uplink/backoff.js';
import { GatewayError } from '../../agent/contracts/driver.js';

export type BusConfig = GatewayConfig['buses'][number];
export type ModbusClient = (typeof ModbusRTUDefault)['default'] extends new () => infer C ? C : never;
/** The package is CommonJS: its default export is the client class (the types say otherwise under NodeNext). */
const ModbusClientClass = (modbusSerial as unknown as { default: new () => ModbusClient }).default;

/** Errors that mean the port or connection is gone (not just a unit that did not answer). */
const LINK_ERRORS = /Port Not Open|port is not open|ECONNRESET|ECONNREFUSED|EPIPE|ENOENT|EIO|disconnected|closed|ETIMEDOUT|EHOSTUNREACH/i;

export class ModbusBus {
  state: 'down' | 'connecting' | 'up' | 'stopped' = 'down';
  requests = 0;
  timeouts = 0;
  errors = 0;
  reconnects = 0;
  lastError: string | null = null;
  private client: ModbusClient | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff(500, 30_000, 0.3);
  private upWaiters: (() => void)[] = [];

  constructor(
    readonly config: BusConfig,
    private readonly logger: Logger,
  ) {}

  get id(): string {
    return this.config.id;
  }

  get describeTransport(): string {
    return this.config.type === 'modbus-rtu' ? `modbus-rtu ${this.config.path} ${this.config.baudRate}` : `modbus-tcp ${this.config.host}:${this.config.port}`;
  }

  start(): void {
    if (this.state === 'stopped') this.state = 'down';
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'connecting' || this.state === 'up') return;
    this.state = 'connecting';
    const client = new ModbusClientClass();
    try {
      const c = this.config;
      if (c.type === 'modbus-rtu') {
        await client.connectRTUBuffered(c.path, { baudRate: c.baudRate, parity: c.parity, dataBits: c.dataBits, stopBits: c.stopBits });
      } else {
        await client.connectTCP(c.host, { port: c.port });
      }
      if (this.state !== 'connecting') {
        client.close(() => {});
        return;
      }
      client.setTimeout(c.timeoutMs);
      this.client = client;
      this.state = 'up';
      this.backoff.reset();
      for (const wake of this.upWaiters.splice(0)) wake();
      this.logger.info({ bus: this.id, transport: this.describeTransport }, 'modbus bus connected');
    } catch (err) {
      this.lastError = (err as Error).message;
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.state = 'down';
    const delay = this.backoff.next();
    this.logger.warn({ bus: this.id, delayMs: delay, err: this.lastError }, 'modbus bus down; reconnecting');
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnects += 1;
      void this.connect();
    }, delay);
  }

  private dropLink(reason: string): void {
    const client = this.client;
    this.client = null;
    this.lastError = reason;
    client?.close(() => {});
    if (this.state === 'up') this.scheduleReconnect();
  }

  /**
   * Runs `fn` for `unitId` in the bus queue. Rejects at once when the bus is down, with a
   * GatewayError coded BUS_DOWN, TIMEOUT (the unit did not answer) or MODBUS_EXCEPTION.
   */
  request<T>(unitId: number, fn: (client: ModbusClient) => Promise<T>): Promise<T> {
    const run = this.chain.then(() => this.exec(unitId, fn));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** While connecting, a request waits a little (an output at start-up should not just fail). */
  private async whenConnecting(): Promise<void> {
    if (this.state !== 'connecting') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.config.timeoutMs * 2);
      this.upWaiters.push(() => (clearTimeout(timer), resolve()));
    });
  }

  private async exec<T>(unitId: number, fn: (client: ModbusClient) => Promise<T>): Promise<T> {
    await this.whenConnecting();
    const client = this.client;
    if (this.state !== 'up' || !client || !client.isOpen) {
      if (this.state === 'up') this.dropLink('port closed');
      throw new GatewayError('BUS_DOWN', `bus ${this.id} is not connected${this.lastError ? ` (${this.lastError})` : ''}`);
    }
    this.requests += 1;
    client.setID(unitId);
    // A guard above the library's own timeout, in case a reply never completes a frame.
    let guard: NodeJS.Timeout | undefined;
    const guardMs = this.config.timeoutMs + 250;
    try {
      return await Promise.race([
        fn(client),
        new Promise<never>((_, reject) => {
          guard = setTimeout(() => reject(Object.assign(new Error('Timed out'), { errno: 'ETIMEDOUT' })), guardMs);
        }),
      ]);
    } catch (err) {
      const e = err as Error & { modbusCode?: number; errno?: string };
      if (typeof e.modbusCode === 'number') {
        this.errors += 1;
        throw new GatewayError('MODBUS_EXCEPTION', `unit ${unitId}: exception ${e.modbusCode} (${e.message})`, { cause: err });
      }
      if (e.errno === 'ETIMEDOUT' || /timed out/i.test(e.message)) {
        this.timeouts += 1;
        throw new GatewayError('TIMEOUT', `unit ${unitId} did not answer within ${this.config.timeoutMs} ms`, { cause: err });
      }
      this.errors += 1;
      if (LINK_ERRORS.test(e.message) || !client.isOpen) this.dropLink(e.message);
      throw new GatewayError('BUS_ERROR', `bus ${this.id}, unit ${unitId}: ${e.message}`, { cause: err });
    } finally {
      clearTimeout(guard);
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    if (client) await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}

/** Sends a function-code request with raw data (e.g. FC05 with a value other than FF00/0000). */
export function customRequest(client: ModbusClient, unitId: number, fc: number, data: number[]): Promise<unknown> {
  return new Promise((resolve, reject) => client.writeCustomFC(unitId, fc, data, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))));
}
