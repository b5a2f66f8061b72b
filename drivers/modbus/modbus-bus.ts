/**
 * One Modbus master per bus: an RS-485 line (RTU) or a TCP host. Requests are serialized
 * (RTU cannot overlap, and the unit id is set inside the same queue, so no request ever
 * goes out with another's id), each has a timeout (modbus-serial's default is none: one
 * silent unit would hang the bus), and the bus reconnects with backoff when the port or
 * socket goes away (modbus-serial does not).
 *
 * Every emitter modbus-serial gives us has an 'error' listener for its whole life: the
 * client (it relays its port's errors, e.g. `EIO` on a write to an unplugged RS-485
 * adapter) and the port itself (`client.close()` removes the client's own listener from
 * the port, and a write cancelled by that close is reported on the port afterwards).
 * Nothing listened before, and one such error took the whole agent down. Closing is
 * bounded too: modbus-serial's TCP close calls back only once the peer closes its side
 * (yaacov/node-modbus-serial#335), which a hung gateway never does.
 */
import type { EventEmitter } from 'node:events';
import * as modbusSerial from 'modbus-serial';
import type ModbusRTUDefault from 'modbus-serial';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import { Backoff } from '../../core/kernel/backoff.js';
import { ReconnectLoop, type LinkState } from '../../core/kernel/reconnect-loop.js';
import { GatewayError, failure } from '../../core/kernel/errors.js';
import type { BusDescription, SharedBus } from '../../core/contracts/driver.js';

export type BusConfig = GatewayConfig['buses'][number];
export type ModbusClient = (typeof ModbusRTUDefault)['default'] extends new () => infer C ? C : never;
/** The package is CommonJS: its default export is the client class (the types say otherwise under NodeNext). */
const ModbusClientClass = (modbusSerial as unknown as { default: new () => ModbusClient }).default;

/** Errors that mean the port or connection is gone (not just a unit that did not answer). */
const LINK_ERRORS =
  /Port Not Open|port is not open|ECONNRESET|ECONNREFUSED|EPIPE|ENOENT|EIO|disconnected|closed|ETIMEDOUT|EHOSTUNREACH/i;
/** A close the library has not confirmed by then is forced (the socket destroyed) and reported. */
const CLOSE_LIMIT_MS = 1000;
/** A TCP connect to a host that drops SYNs would otherwise wait for the kernel (about 2 minutes). */
const CONNECT_LIMIT_MS = 10_000;

/** The parts of a client modbus-serial's types do not show: its port (an EventEmitter), and the TCP port's socket. */
type ClientInternals = { _port?: EventEmitter & { _client?: { destroy?: () => void } } };

export class ModbusBus implements SharedBus {
  requests = 0;
  timeouts = 0;
  errors = 0;
  lastError: string | null = null;
  private client: ModbusClient | null = null;
  /** Ends a connect in progress (the bus stopped): it fails at once and its client is closed. */
  private cancelConnect: (() => void) | null = null;
  private stopping: Promise<void> | null = null;
  /** The stack of the last error a port reported: the client relays the same error as a copy. */
  private lastPortErrorStack: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly loop: ReconnectLoop;
  private upWaiters: (() => void)[] = [];

  constructor(
    readonly config: BusConfig,
    private readonly logger: Logger,
  ) {
    this.loop = new ReconnectLoop({
      backoff: new Backoff(500, 30_000, 0.3),
      attempt: () => void this.connect(),
      onWait: (delayMs) =>
        this.logger.warn(
          failure('BUS_DOWN', this.lastError ?? undefined, { delayMs }),
          'modbus bus down; reconnecting',
        ),
    });
  }

  get state(): LinkState {
    return this.loop.state;
  }

  /** Attempts made after a wait (the bus went down, or its connect failed). */
  get reconnects(): number {
    return this.loop.retries;
  }

  get id(): string {
    return this.config.id;
  }

  get describeTransport(): string {
    return this.config.type === 'modbus-rtu'
      ? `modbus-rtu ${this.config.path} ${this.config.baudRate}`
      : `modbus-tcp ${this.config.host}:${this.config.port}`;
  }

  describe(): BusDescription {
    return {
      id: this.id,
      transport: this.describeTransport,
      state: this.state,
      requests: this.requests,
      timeouts: this.timeouts,
      errors: this.errors,
      reconnects: this.reconnects,
      lastError: this.lastError,
    };
  }

  start(): void {
    if (this.state === 'stopped') this.stopping = null;
    this.loop.start();
  }

  /** One attempt of the loop: a new client (modbus-serial does not reconnect one), reporting to the loop. */
  private async connect(): Promise<void> {
    const client = new ModbusClientClass();
    this.watchClient(client);
    let limit: NodeJS.Timeout | undefined;
    try {
      const c = this.config;
      const connected =
        c.type === 'modbus-rtu'
          ? client.connectRTUBuffered(c.path, {
              baudRate: c.baudRate,
              parity: c.parity,
              dataBits: c.dataBits,
              stopBits: c.stopBits,
            })
          : client.connectTCP(c.host, { port: c.port });
      this.watchPort(client); // the connect call created the port; it opens asynchronously
      await new Promise<void>((resolve, reject) => {
        limit = setTimeout(
          () => reject(new GatewayError('BUS_DOWN', `no connection within ${CONNECT_LIMIT_MS} ms`)),
          CONNECT_LIMIT_MS,
        );
        this.cancelConnect = () => reject(new GatewayError('DRIVER_STOPPED', 'the bus stopped'));
        connected.then(resolve, reject);
      });
      if (this.state !== 'connecting') throw new GatewayError('DRIVER_STOPPED', 'the bus stopped');
      client.setTimeout(c.timeoutMs);
      this.client = client;
      this.loop.up();
      for (const wake of this.upWaiters.splice(0)) wake();
      this.logger.info({ transport: this.describeTransport }, 'modbus bus connected');
    } catch (err) {
      this.lastError = (err as Error).message;
      void this.closeClient(client);
      this.loop.down(); // not once stopped
    } finally {
      clearTimeout(limit);
      this.cancelConnect = null;
    }
  }

  /** The client's own events: errors it relays from its port, and the port closing under it. */
  private watchClient(client: ModbusClient): void {
    const emitter = client as unknown as EventEmitter;
    emitter.on('error', (err: Error) => {
      if (err.stack !== undefined && err.stack === this.lastPortErrorStack) return; // already counted where the port reported it
      this.libraryError('client', err, client);
    });
    emitter.on('close', () => {
      if (this.client === client) this.dropLink('the port closed');
    });
  }

  /** Registered before the client's own listener, so a port error is seen here first. */
  private watchPort(client: ModbusClient): void {
    (client as unknown as ClientInternals)._port?.on('error', (err: Error) => {
      this.lastPortErrorStack = err.stack;
      this.libraryError('port', err, client);
    });
  }

  /** Counted and logged; the link it came from is dropped and reconnected. */
  private libraryError(source: 'client' | 'port', err: Error, client: ModbusClient): void {
    this.errors += 1;
    this.lastError = err.message;
    this.logger.warn(failure('BUS_ERROR', err, { source, current: this.client === client }), 'modbus library error');
    if (this.client === client) this.dropLink(err.message);
  }

  private dropLink(reason: string): void {
    const client = this.client;
    this.client = null;
    this.lastError = reason;
    if (client) void this.closeClient(client);
    if (this.state === 'up') this.loop.down(); // a connect in progress reports its own failure
  }

  /**
   * Closes a client within CLOSE_LIMIT_MS; resolves false when it had to be forced. A TCP
   * client whose socket is already gone never calls back, so it is only destroyed.
   */
  private closeClient(client: ModbusClient): Promise<boolean> {
    const forceClose = () => {
      if (this.config.type === 'modbus-tcp') (client as unknown as ClientInternals)._port?._client?.destroy?.();
    };
    if (this.config.type === 'modbus-tcp' && !client.isOpen) {
      forceClose();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const limit = setTimeout(() => {
        forceClose();
        resolve(false);
      }, CLOSE_LIMIT_MS);
      try {
        client.close(() => {
          clearTimeout(limit);
          resolve(true);
        });
      } catch (err) {
        clearTimeout(limit);
        this.logger.warn(failure('BUS_ERROR', err), 'modbus close failed');
        forceClose();
        resolve(false);
      }
    });
  }

  /**
   * Runs `fn` for `unitId` in the bus queue. Rejects at once when the bus is down, with a
   * GatewayError coded BUS_DOWN, TIMEOUT (the unit did not answer) or MODBUS_EXCEPTION.
   */
  request<T>(unitId: number, fn: (client: ModbusClient) => Promise<T>): Promise<T> {
    const run = this.chain.then(() => this.exec(unitId, fn));
    this.chain = run.catch(() => undefined); // the caller gets the rejection through `run`; the chain only keeps the order
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
      throw new GatewayError(
        'BUS_DOWN',
        `bus ${this.id} is not connected${this.lastError ? ` (${this.lastError})` : ''}`,
      );
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
          guard = setTimeout(
            () => reject(new GatewayError('TIMEOUT', 'Timed out', { detail: { errno: 'ETIMEDOUT' } })),
            guardMs,
          );
        }),
      ]);
    } catch (err) {
      const e = err as Error & { modbusCode?: number; errno?: string };
      if (typeof e.modbusCode === 'number') {
        this.errors += 1;
        throw new GatewayError('MODBUS_EXCEPTION', `unit ${unitId}: exception ${e.modbusCode} (${e.message})`, {
          cause: err,
        });
      }
      if (e.errno === 'ETIMEDOUT' || /timed out/i.test(e.message)) {
        this.timeouts += 1;
        throw new GatewayError('TIMEOUT', `unit ${unitId} did not answer within ${this.config.timeoutMs} ms`, {
          cause: err,
        });
      }
      this.errors += 1;
      if (LINK_ERRORS.test(e.message) || !client.isOpen) this.dropLink(e.message);
      throw new GatewayError('BUS_ERROR', `bus ${this.id}, unit ${unitId}: ${e.message}`, { cause: err });
    } finally {
      clearTimeout(guard);
    }
  }

  /** Idempotent: every caller waits for the same close, which is bounded (CLOSE_LIMIT_MS). */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.loop.stop();
    for (const wake of this.upWaiters.splice(0)) wake(); // they find the bus stopped: BUS_DOWN at once
    this.cancelConnect?.();
    const client = this.client;
    this.client = null;
    if (client && !(await this.closeClient(client))) {
      this.logger.warn(
        failure('TIMEOUT', null, { limitMs: CLOSE_LIMIT_MS }),
        'modbus bus did not close in time; its connection was dropped',
      );
    }
  }
}

/** Sends a function-code request with raw data (e.g. FC05 with a value other than FF00/0000). */
export function customRequest(client: ModbusClient, unitId: number, fc: number, data: number[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    client.writeCustomFC(unitId, fc, data, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))),
  );
}
