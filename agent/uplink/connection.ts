/**
 * Owns the link to the county broker. One mqtt.js client per connection attempt, with
 * mqtt.js's own reconnect off: its timer has a fixed period (no backoff, no jitter) and its
 * in-memory resend store dies with the process. Our outbox owns every message instead, so
 * a fresh client after each failure is both simpler and sufficient: whatever was in flight
 * is still in the outbox and goes again with the same event id.
 */
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { MqttConfig } from '../../config/schema/gateway-config.js';
import type { Clock } from '../../core/kernel/clock.js';
import { resolvePath, resolveSecret } from '../../config/load-config.js';
import { Backoff } from '../../core/kernel/backoff.js';
import { ReconnectLoop, type LinkState } from '../../core/kernel/reconnect-loop.js';
import { GatewayError, failure } from '../../core/kernel/errors.js';
import type { Topics } from './topics.js';
import { outboxOwnedStore } from './outbox-owned-store.js';
import { brokerClient } from './broker-stream.js';

export type { LinkState };

export interface StatusPayload {
  state: 'online' | 'offline';
  gatewayId: string;
  bootId: string;
  version: string;
  configHash: string;
  reason?: string;
  ts: string;
}

export interface ConnectionOptions {
  config: MqttConfig;
  baseDir: string;
  clientId: string;
  topics: Topics;
  identity: Omit<StatusPayload, 'state' | 'ts' | 'reason'>;
  logger: Logger;
  /** The agent's clock: "down since" is monotonic (a wall-clock jump must not look like an outage). */
  clock: Clock;
  /** True while critical events wait in the outbox: the link is retried within alarmRetry, not the long backoff. */
  alarmsWaiting: () => boolean;
  /** Jitter for the urgent retry (tests pin it). Default Math.random. */
  random?: () => number;
}

export class Connection extends EventEmitter<{ up: [MqttClient, IConnackPacket]; down: [Error | null] }> {
  lastError: string | null = null;
  /** Monotonic ms (clock.monoMs()) when the link went down; null while up. Down from the start. */
  downSinceMs: number | null;
  private client: MqttClient | null = null;
  private readonly loop: ReconnectLoop;
  /** monoMs() (the agent clock) when the current attempt began, and the timer that cuts it short while an alarm waits. */
  private attemptStartedMs = 0;
  private attemptCap: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.downSinceMs = opts.clock.monoMs();
    const r = opts.config.reconnect;
    this.loop = new ReconnectLoop({
      backoff: new Backoff(r.minMs, r.maxMs, r.jitter),
      urgentDelay: () => (opts.alarmsWaiting() ? this.urgentDelay() : null),
      attempt: () => this.attempt(),
      onWait: (delayMs) =>
        opts.logger.info({ delayMs, lastError: this.lastError }, 'uplink down; reconnecting after backoff'),
    });
  }

  get state(): LinkState {
    return this.loop.state;
  }

  /** Links that were up and went away. */
  get reconnects(): number {
    return this.loop.losses;
  }

  /** Connection attempts, failed ones included (a refused CONNACK is retried like any failure). */
  get attempts(): number {
    return this.loop.attempts;
  }

  get current(): MqttClient | null {
    return this.state === 'up' ? this.client : null;
  }

  start(): void {
    this.loop.start();
  }

  /**
   * A wait of alarmRetry minMs-maxMs, jittered: a county's gateways that lost the same tower
   * do not all come back in the same second, yet an alarm waits seconds, not the minutes a
   * grown backoff would make it wait.
   */
  private urgentDelay(): number {
    const { minMs, maxMs } = this.opts.config.alarmRetry;
    return Math.round(minMs + (this.opts.random ?? Math.random)() * (maxMs - minMs));
  }

  /** An alarm was stored while the link is down: retry soon if the current wait is longer. */
  alarmWaiting(): void {
    this.loop.hurry();
    // An attempt already running was given the long connect timeout: hold it to the alarm's.
    const client = this.client;
    if (this.loop.state !== 'connecting' || !client || this.attemptCap) return;
    const limit = this.opts.config.alarmRetry.connectTimeoutMs;
    const left = this.attemptStartedMs + limit - this.opts.clock.monoMs();
    this.attemptCap = setTimeout(
      () => {
        this.attemptCap = null;
        if (this.client === client && this.loop.state === 'connecting')
          this.drop(`no CONNACK within ${limit} ms while an alarm waits`);
      },
      Math.max(0, left),
    );
  }

  private clearAttemptCap(): void {
    if (this.attemptCap) clearTimeout(this.attemptCap);
    this.attemptCap = null;
  }

  /**
   * Something says the network is back (the modem registered again): retry within a second or
   * two instead of finishing a long backoff.
   */
  networkMayBeBack(): void {
    this.loop.hurry(Math.round(250 + (this.opts.random ?? Math.random)() * 1750));
  }

  private status(state: StatusPayload['state'], reason?: string): string {
    const body: StatusPayload = {
      state,
      ...this.opts.identity,
      ts: new Date(this.opts.clock.now()).toISOString(),
      ...(reason ? { reason } : {}),
    };
    return JSON.stringify(body);
  }

  private buildOptions(): IClientOptions {
    const { config, baseDir, clientId, topics } = this.opts;
    // While alarms wait, a connect that hangs (a cell that takes the SYN and nothing after) is given up sooner.
    const connectTimeout = this.opts.alarmsWaiting()
      ? Math.min(config.connectTimeoutMs, config.alarmRetry.connectTimeoutMs)
      : config.connectTimeoutMs;
    const v5 = config.protocolVersion === 5;
    const tls = config.tls;
    const read = (p: string | undefined) => (p === undefined ? undefined : readFileSync(resolvePath(baseDir, p)));
    return {
      protocolVersion: config.protocolVersion,
      clientId,
      clean: false, // persistent session: commands sent while we were offline are kept for us
      keepalive: config.keepaliveSec,
      connectTimeout,
      reconnectPeriod: 0, // we reconnect ourselves, with backoff and jitter
      reconnectOnConnackError: true,
      queueQoSZero: false,
      outgoingStore: outboxOwnedStore(),
      resubscribe: false,
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: resolveSecret(config.password, baseDir) } : {}),
      ...(tls
        ? {
            ca: read(tls.ca),
            cert: read(tls.cert),
            key: read(tls.key),
            ...(tls.keyPassphrase !== undefined ? { passphrase: resolveSecret(tls.keyPassphrase, baseDir) } : {}),
            rejectUnauthorized: tls.rejectUnauthorized,
            ...(tls.servername ? { servername: tls.servername } : {}),
          }
        : {}),
      will: {
        topic: topics.status,
        payload: Buffer.from(this.status('offline', 'connection lost')),
        qos: 1,
        retain: true,
        ...(v5 ? { properties: { willDelayInterval: config.willDelaySec } } : {}),
      },
      ...(v5 ? { properties: { sessionExpiryInterval: config.sessionExpirySec } } : {}),
      // A batch topic under a county prefix is ~55 bytes, as much as a village minute's readings
      // gain from the dictionary. mqtt.js assigns the aliases (least recently used first) within the
      // broker's CONNACK maximum, and none when it offers none; they live for one connection, and
      // every message the outbox resends after a reconnect names its topic afresh.
      ...(v5 && config.topicAliases ? { autoAssignTopicAlias: true } : {}),
    };
  }

  /** One attempt of the loop: a new client (mqtt.js's own reconnect is off), reporting to the loop. */
  private attempt(): void {
    this.clearAttemptCap();
    this.attemptStartedMs = this.opts.clock.monoMs();
    let client: MqttClient;
    try {
      client = brokerClient(this.opts.config.url, this.buildOptions());
    } catch (err) {
      this.lastError = (err as Error).message;
      this.loop.down();
      return;
    }
    this.client = client;
    let wasUp = false;
    client.on('connect', (connack) => {
      if (this.client !== client || !this.loop.up()) return; // stopped meanwhile
      this.clearAttemptCap();
      wasUp = true;
      this.downSinceMs = null;
      this.lastError = null;
      client.publish(this.opts.topics.status, this.status('online'), { qos: 1, retain: true });
      this.opts.logger.info({ url: this.opts.config.url }, 'uplink connected');
      this.emit('up', client, connack);
    });
    client.on('error', (err) => {
      this.lastError = err.message;
      this.opts.logger.warn(failure('LINK_DOWN', err), 'uplink error');
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.clearAttemptCap();
      client.removeAllListeners('connect');
      client.end(true);
      this.client = null;
      if (wasUp) {
        this.downSinceMs = this.opts.clock.monoMs();
        this.emit('down', this.lastError ? new GatewayError('LINK_DOWN', this.lastError) : null);
      }
      this.loop.down();
    });
  }

  /** Drops the current connection (e.g. after a refused publish); backoff applies. */
  drop(reason: string): void {
    this.lastError = reason;
    this.client?.stream.destroy();
  }

  /**
   * Says offline (a clean DISCONNECT suppresses the will), then closes, within `limitMs`: a
   * broker that never answers (hung, or a cell gone without a FIN) would otherwise hold the
   * goodbye forever, since mqtt.js waits for the PUBACK and then for the broker to close its
   * side. Past the limit the socket is destroyed; the broker's will says offline for us.
   */
  async stop(limitMs: number): Promise<void> {
    this.loop.stop();
    this.clearAttemptCap();
    const client = this.client;
    this.client = null;
    if (!client) return;
    client.removeAllListeners('close');
    const goodbye = new Promise<void>((resolve) => {
      const end = () => client.end(false, {}, () => resolve());
      if (client.connected)
        client.publish(this.opts.topics.status, this.status('offline', 'shutdown'), { qos: 1, retain: true }, end);
      else client.end(true, {}, () => resolve());
    });
    let limit: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (limit = setTimeout(() => resolve(false), limitMs)));
    const inTime = await Promise.race([goodbye.then(() => true), late]);
    clearTimeout(limit);
    if (inTime) return;
    // A graceful end may have begun (the PUBACK came, the broker's close did not): then end(true)
    // does nothing, so the socket is destroyed here, whatever state mqtt.js is in.
    client.end(true);
    client.stream.destroy();
    this.opts.logger.warn(
      failure('TIMEOUT', null, { limitMs }),
      'the broker did not take the goodbye in time; the connection was dropped',
    );
  }
}
