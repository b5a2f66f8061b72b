/** The uplink: connection + drain + commands, and the numbers health reports about them. */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { MqttConfig } from '../../config/schema/gateway-config.js';
import type { Clock } from '../../core/kernel/clock.js';
import { systemClock } from '../../core/kernel/system-clock.js';
import type { Cursor, OutboxReader, OutboxRow } from '../../core/contracts/outbox-store.js';
import { CommandRouter } from './commands.js';
import { CommandClock } from './command-expiry.js';
import { CommandSignatures } from './command-signature.js';
import { NonceStore, nonceFile } from './nonce-store.js';
import type { CountyConfig } from '../../config/schema/county.js';
import './mqtt-number-cache.js'; // before any client: no 6 MB packet-id table (see there)
import { Connection, type StatusPayload } from './connection.js';
import { Drain } from './drain.js';
import { mqttPublisher } from './mqtt-publisher.js';
import { MemorySender } from './memory-sender.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { AlarmDeadlines, type LateAlarm, type LateAlarmsListener } from './alarm-deadlines.js';
import { topicsFor, type Topics } from './topics.js';
import type { IdleLane } from './idle-lane.js';
import { failure } from '../../core/kernel/errors.js';

export interface UplinkOptions {
  config: MqttConfig;
  baseDir: string;
  gatewayId: string;
  identity: Omit<StatusPayload, 'state' | 'ts' | 'reason' | 'gatewayId'>;
  outbox: OutboxReader;
  logger: Logger;
  /** The agent's clock; "down for" is measured on its monotonic time. Default: the system clock. */
  clock?: Clock;
  /** The command router, when its owner made it before the uplink (commandRouterFor); else one of its own. */
  commands?: CommandRouter;
  /** Pictures and update requests: the drain's idle lane (agent/media/media-sender.ts, agent/update/chunk-requests.ts). */
  idle?: IdleLane;
  /** The county's update server's answers on `<prefix>/update/chunk` (agent/update/chunk-requests.ts). */
  updateChunks?: (payload: Buffer) => void;
}

/**
 * The uplink's command router, made apart from the uplink so that commands can be registered before it exists.
 * `signing`: the county's keys and where their nonces are kept (agent/uplink/command-signature.ts).
 */
export function commandRouterFor(
  config: MqttConfig,
  gatewayId: string,
  logger: Logger,
  clock: Clock,
  signing?: { county: CountyConfig | undefined; dataDir: string },
): CommandRouter {
  const log = logger.child({ part: 'commands' });
  const commandClock = new CommandClock(clock);
  return new CommandRouter(
    uplinkTopics(config, gatewayId),
    log,
    commandClock,
    signing && {
      signatures: new CommandSignatures(signing.county),
      nonces: new NonceStore(nonceFile(signing.dataDir), log, () => commandClock.now().ms),
      gatewayId,
    },
  );
}

export function uplinkTopics(config: MqttConfig, gatewayId: string): Topics {
  return topicsFor(config.topicPrefix ?? `village/${gatewayId}`);
}

export interface UplinkStats {
  state: string;
  reconnects: number;
  attempts: number;
  lastError: string | null;
  downForMs: number | null;
  lastPubackAgeMs: number | null;
  inflight: number;
  /** Bytes unacknowledged, the airtime budget for them, and what the link was measured to carry. */
  link: ReturnType<Drain['linkStats']>;
  publishedMessages: number;
  deliveredEvents: number;
}

export class Uplink {
  readonly topics: Topics;
  readonly commands: CommandRouter;
  private readonly connection: Connection;
  private readonly drain: Drain;
  private readonly fromMemory: MemorySender;
  private readonly clock: Clock;
  private readonly deadlines: AlarmDeadlines;
  private readonly outbox: OutboxReader;

  constructor(opts: UplinkOptions) {
    this.outbox = opts.outbox;
    const { config, gatewayId, logger } = opts;
    this.clock = opts.clock ?? systemClock('always');
    this.topics = uplinkTopics(config, gatewayId);
    this.commands = opts.commands ?? commandRouterFor(config, gatewayId, logger, this.clock);
    this.connection = new Connection({
      config,
      baseDir: opts.baseDir,
      clientId: config.clientId ?? gatewayId,
      topics: this.topics,
      identity: { gatewayId, ...opts.identity },
      logger: logger.child({ part: 'uplink' }),
      clock: this.clock,
      alarmsWaiting: () => opts.outbox.waiting(0) > 0,
    });
    this.drain = new Drain({
      outbox: opts.outbox,
      topics: this.topics,
      gatewayId,
      batch: config.batch,
      replay: config.replay,
      linkBudget: config.linkBudget,
      alarmAckTimeoutMs: config.alarmRetry.ackTimeoutMs,
      wire: config.wire,
      protocolVersion: config.protocolVersion,
      logger: logger.child({ part: 'drain' }),
      monoMs: this.clock.monoMs,
      onRefused: (reason) => this.connection.drop(reason),
      onAlarmWaiting: () => this.connection.alarmWaiting(),
      onDelivered: (rows) => this.deadlines.delivered(rows),
      ...(opts.idle ? { idle: opts.idle } : {}),
    });
    this.fromMemory = new MemorySender(
      this.topics.events,
      config.alarmRetry.ackTimeoutMs,
      logger.child({ part: 'from-memory' }),
    );
    this.deadlines = new AlarmDeadlines({
      limitMs: config.alarmRetry.ackTimeoutMs,
      monoMs: this.clock.monoMs,
      downSinceMs: () => this.connection.downSinceMs,
      onListenerError: (err) => logger.error(failure('LISTENER_FAILED', err), 'a late-alarm listener failed'),
    });
    opts.outbox.on('stored', (events) => this.deadlines.stored(events));
    this.connection.on('up', (client, connack) => {
      this.fromMemory.attach(client);
      // Respect the broker's Receive Maximum (MQTT 5) if it is below our window.
      const receiveMax = connack.properties?.receiveMaximum ?? Infinity;
      this.commands.attach(client, config.protocolVersion);
      if (opts.updateChunks) this.subscribeUpdates(client, opts.updateChunks, logger);
      this.drain.attach(mqttPublisher(client), Math.min(config.inflightWindow, receiveMax));
    });
    this.connection.on('down', () => {
      this.drain.detach();
      this.fromMemory.detach();
      this.deadlines.linkChanged();
    });
  }

  /** Answers to the gateway's update requests; subscribed on every connection, as the commands are. */
  private subscribeUpdates(client: MqttClient, deliver: (payload: Buffer) => void, logger: Logger): void {
    const topic = this.topics.updateChunk;
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (err && client.connected)
        logger.error(failure('SUBSCRIBE_FAILED', err, { topic }), 'cannot subscribe to update chunks');
    });
    client.on('message', (t, payload) => t === topic && deliver(payload));
  }

  /** An event the outbox could not store, published from memory (memory-sender.ts). */
  sendFromMemory(event: GatewayEvent): void {
    this.fromMemory.send(event);
  }

  /**
   * Alarms (critical events) the broker has not acknowledged within alarmRetry.ackTimeoutMs of
   * being stored, or stored while the link has been down that long: the SMS fallback's cue.
   */
  onAlarmsLate(listener: LateAlarmsListener): () => void {
    return this.deadlines.onLate(listener);
  }

  /** All the alarm side may know of the uplink (agent.ts hands it over): how long it has been down, which alarms went late. */
  alarmPorts(): { uplinkDownForMs: () => number | null; onAlarmsLate: (l: LateAlarmsListener) => () => void } {
    return { uplinkDownForMs: () => this.stats().downForMs, onAlarmsLate: (l) => this.onAlarmsLate(l) };
  }

  start(): void {
    this.deadlines.restored(undeliveredAlarms(this.outbox));
    this.connection.start();
  }

  /** The modem (or anything else that knows) says the network is back: retry now rather than after the backoff. */
  networkMayBeBack(): void {
    this.connection.networkMayBeBack();
  }

  get isUp(): boolean {
    return this.connection.state === 'up';
  }

  stats(): UplinkStats {
    const c = this.connection;
    return {
      state: c.state,
      reconnects: c.reconnects,
      attempts: c.attempts,
      lastError: c.lastError,
      // Monotonic: the SMS fallback decides on this, and NTP may move the wall clock by days.
      downForMs: c.downSinceMs === null ? null : Math.max(0, this.clock.monoMs() - c.downSinceMs),
      lastPubackAgeMs:
        this.drain.lastPubackMs === null ? null : Math.round(this.clock.monoMs() - this.drain.lastPubackMs),
      inflight: this.drain.inflightCount,
      link: this.drain.linkStats(),
      publishedMessages: this.drain.publishedMessages,
      deliveredEvents: this.drain.deliveredEvents,
    };
  }

  /**
   * How long stop() waits for the broker to take the goodbye (offline status, DISCONNECT),
   * as the agent waits for its drivers (Agent.STOP_LIMIT_MS): a hung broker must not hold up
   * a service stop or a config reload.
   */
  static readonly STOP_LIMIT_MS = 3000;

  /** Bounded by STOP_LIMIT_MS (and a moment for the outbox's deletes). */
  async stop(): Promise<void> {
    this.deadlines.stop();
    this.drain.detach();
    this.fromMemory.detach();
    this.drain.flushDeletes();
    await this.connection.stop(Uplink.STOP_LIMIT_MS);
    this.drain.flushDeletes(); // PUBACKs that arrived while saying goodbye
  }
}

/** At most this many alarms from before a restart get a deadline (the newest are not favoured: replay order). */
const RESTORED_MAX = 10_000;

/** The critical rows the outbox still holds (stored by an earlier run, never acknowledged), as the deadlines name them. */
function undeliveredAlarms(outbox: OutboxReader): LateAlarm[] {
  const alarms: LateAlarm[] = [];
  let cursor: Cursor | null = null;
  while (alarms.length < RESTORED_MAX) {
    const rows: OutboxRow[] = outbox.readPage(cursor, 500).filter((r) => r.prio === 0);
    if (rows.length === 0) break;
    for (const r of rows) {
      const e = JSON.parse(r.body) as GatewayEvent;
      alarms.push({ id: e.id, seq: r.seq, type: e.type, deviceId: e.deviceId });
    }
    const last = rows[rows.length - 1]!;
    cursor = { prio: last.prio, pos: last.pos };
  }
  return alarms;
}
