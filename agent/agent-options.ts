/** What an Agent is made from (agent.ts), and what it gives the parts it opens at start (agent-parts.ts). */
import type { Logger } from 'pino';
import type { Clock } from '../core/kernel/clock.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { DeviceProfile } from '../config/schema/profile.js';
import type { ReloadResult } from './commands/reload-config.js';
import type { LogRing } from './diagnostics/log-ring.js';
import type { ConfigPushPort } from './commands/config.js';
import type { SupervisorTuning } from './nodered/from-config.js';
import type { Driver, OutputCommand, SharedBus } from '../core/contracts/driver.js';
import type { GatewayEvent } from '../core/contracts/event.js';
import type { SmsSender } from '../core/contracts/sms.js';
import type { EventBus } from './event-bus.js';
import type { AgentObservation } from './observation.js';
import type { CommandRouter } from './uplink/commands.js';

export interface AgentOptions {
  config: GatewayConfig;
  configHash: string;
  baseDir: string;
  logger: Logger;
  clock?: Clock;
  /** Device profiles by device id (loadConfig resolves them); resolved at start when absent. */
  profiles?: Map<string, DeviceProfile>;
  /**
   * Re-reads and validates the config file; on success the owner (the CLI) restarts the agent
   * with it. Without it, `reload-config` answers that this agent cannot reload.
   */
  reloadConfig?: () => ReloadResult;
  /** Stops this agent and starts it again with the same config (the CLI's run loop); without it `restart` is refused. */
  restart?: AgentRestart;
  /** The logger's last lines (diagnostics/log-ring.ts), for `logs`; without it `logs` is refused. */
  logRing?: LogRing;
  /** config.get / config.apply (the CLI's agent/push/); without it both answer RELOAD_UNAVAILABLE. */
  configPush?: ConfigPushPort;
  /** Tests: the Node-RED supervisor's timings, sizes and paths (nodes folder, restart backoff, heartbeat, event queue). */
  nodeRed?: SupervisorTuning;
}

/** What the parts need of the agent that owns them (late-bound: the drivers come later). */
export interface AgentSide {
  opts: AgentOptions;
  clock: Clock;
  bus: EventBus;
  commands: CommandRouter;
  observe: AgentObservation;
  /** Hands the outbox's commits to whoever watches them through `observe.onStored`. */
  stored(events: GatewayEvent[]): void;
  write(command: OutputCommand): Promise<void>;
  drivers(): Driver[];
  /** A picture from a device that takes them (Driver.capture); rejects NO_CAMERA for any other. */
  capture(deviceId: string, channel?: number): Promise<Buffer>;
  buses(): SharedBus[];
  smsModem(): SmsSender | null;
  heartbeat(): string | null;
  stopping(): boolean;
}

/** The owner's restart of the agent (the CLI's run loop), spaced so a flood of `restart` commands cannot keep the alarms down. */
export interface AgentRestart {
  /** 0 when a restart may happen now, else ms until one may. */
  waitMs(): number;
  run(by: string | null): void;
}
