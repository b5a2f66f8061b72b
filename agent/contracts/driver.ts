/**
 * The driver contract. Every method is required, even when it is a no-op, so a driver's
 * whole life cycle is visible. Drivers never touch MQTT or the outbox: they emit events
 * through their context and the agent decides the rest.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
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
  detail?: Record<string, unknown>;
}

export interface Driver {
  /** Begin I/O. Construction does none. Aborting the signal is the same as stop(). */
  start(signal: AbortSignal): Promise<void>;
  /** Idempotent, bounded by a timeout inside the driver. */
  stop(): Promise<void>;
  write(command: OutputCommand): Promise<void>;
  describe(): DriverDescription;
}

export type DriverFactory<TConfig> = (ctx: DriverContext<TConfig>) => Driver;

/** Typed errors: a class with a stable code, so callers branch on codes, not messages. */
export class GatewayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}
