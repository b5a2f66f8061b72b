/**
 * The driver contract. Every method is required, even when it is a no-op, so a driver's
 * whole life cycle is visible. Drivers never touch MQTT or the outbox: they emit events
 * through their context and the agent decides the rest.
 */
import type { Logger } from 'pino';
import type { Clock } from '../kernel/clock.js';
import type { EventInput, GatewayEvent } from './event.js';

export interface DriverContext<TConfig> {
  readonly config: TConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Resolves once the event is durable in the outbox (the producer's acknowledgement). */
  emit(event: EventInput): Promise<GatewayEvent>;
}

/** A command for an output point (siren, strobe, LED, relay). */
export interface OutputCommand {
  deviceId: string;
  output: string;
  action: 'on' | 'off' | 'pulse';
  durationMs?: number;
}

export interface DriverDescription {
  deviceIds: string[];
  driver: string;
  transport: string;
  online: boolean;
  lastSeenMs: number | null;
  errors: number;
  /** Why it is not online, in a technician's words (null while online); `devices` and `status` show it. */
  downReason?: string | null;
  detail?: Record<string, unknown>;
}

export interface Driver {
  /** Begin I/O. Construction does none. Aborting the signal is the same as stop(). */
  start(signal: AbortSignal): Promise<void>;
  /** Idempotent, bounded by a timeout inside the driver. */
  stop(): Promise<void>;
  write(command: OutputCommand): Promise<void>;
  describe(): DriverDescription;
  /**
   * A device that takes pictures (a camera): one JPEG of the channel (1-based, default 1),
   * fetched now. Rejects with a code (CAMERA_SNAPSHOT_*); the caller stores and reports it.
   */
  capture?(channel?: number): Promise<Buffer>;
}

/** What a shared bus reports in `devices` and devices.json. */
export interface BusDescription {
  id: string;
  transport: string;
  state: 'down' | 'connecting' | 'up' | 'stopped';
  requests: number;
  timeouts: number;
  errors: number;
  reconnects: number;
  lastError: string | null;
}

/**
 * A transport several devices share (a Modbus RTU line, a Modbus TCP gateway): started before
 * its devices and stopped after them, so a device's last pulse-off still has a bus to go out on.
 */
export interface SharedBus {
  readonly id: string;
  start(): void;
  /** Idempotent, bounded by a timeout inside the bus. */
  stop(): Promise<void>;
  describe(): BusDescription;
}
