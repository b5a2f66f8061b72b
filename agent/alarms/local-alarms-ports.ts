/** What the local alarms are given: the config, the clock, the bus and outputs, the uplink's and modem's state. */
import type { Logger } from 'pino';
import type { Clock } from '../../core/kernel/clock.js';
import type { OutputCommand } from '../../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import type { EventOf, EventType } from '../../core/contracts/events/catalogue.js';
import type { SmsSender } from '../../core/contracts/sms.js';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';

export interface LocalAlarmsPorts {
  config: GatewayConfig;
  clock: Clock;
  logger: Logger;
  /** Capture an event (bus at once, outbox after). */
  /**
   * `beforeCommit` runs synchronously once the event has its id, before it (or anything
   * queued with it) can commit: what must be on disk no later than the event goes there.
   */
  emit(e: EventInput, beforeCommit?: (event: GatewayEvent) => void): Promise<GatewayEvent>;
  write(cmd: OutputCommand): Promise<void>;
  subscribe(listener: (e: GatewayEvent) => void): () => void;
  /** One event type, its payload typed (the bus's `on`). */
  on<T extends EventType>(type: T, handler: (e: EventOf<T>) => void): () => void;
  /** How long the uplink has been down (null: up). */
  uplinkDownForMs(): number | null;
  /** Tells of alarms the broker has not acknowledged in time (the uplink's port): their alerts go by SMS at once. */
  onAlarmsLate?(listener: (late: readonly { id: string }[], reason: string) => void): () => void;
  /** A rule's `snapshot` action: a picture from the camera, taken, stored and reported without anyone waiting. */
  snapshot?(camera: string, channel: number, firing: { rule: string; event: string | null; type: string | null }): void;
  /** The modem that sends SMS, if one is configured and running. */
  smsSender(): SmsSender | null;
  /** How many acknowledged alerts to remember (default ACKED_KEEP_MAX); tests use a few. */
  keepAcknowledged?: number;
  /**
   * A write of the alarm state (alarms.json, the SMS queue in it) failed: the agent counts it and logs it at most
   * once a second with its other storage failures. Without it, each is logged.
   */
  notSaved?(file: string, err: Error): void;
}
