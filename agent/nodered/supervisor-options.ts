/**
 * The supervisor's options (what the agent gives it); its report is in report.ts. Apart from
 * supervisor.ts to keep that file about running the child.
 */
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import type { ChildOptions, FlowDevices } from '../../core/contracts/nodered-ipc.js';
import type { NodeRedConfig } from '../../config/schema/gateway-config.js';
import type { ChannelLimits } from './channel.js';
import type { CrashLoopPolicy } from './crash-loop.js';
import type { FlowPorts, FlowRequestLimits } from './requests.js';

export interface SupervisorOptions {
  /** The section with its secrets resolved. */
  config: Omit<NodeRedConfig, 'users' | 'credentialSecret'> & {
    users: { username: string; password: string }[];
    credentialSecret: string;
  };
  dataDir: string;
  gatewayId: string;
  logger: Logger;
  logLevel?: ChildOptions['logLevel'];
  /** device/output pairs a flow may drive. */
  flowWritable: Set<string>;
  tagsOf(deviceId: string): string[];
  /** The event device ids and their tags, for the editor's pickers (the `devices` request). */
  devices?: FlowDevices['devices'];
  ports: FlowPorts & {
    onEvent(listener: (e: GatewayEvent) => void): () => void;
    /** The supervisor's own events (nodered.*); never awaited. */
    emit(e: EventInput): void;
  };
  monoMs?: () => number;
  /** Wall clock for the start record kept across agent restarts (default Date.now). */
  wallMs?: () => number;
  childPath?: string;
  /** Where our nodes and their link live (default: the repo's flows/nodes). */
  nodesDir?: string | null;
  /**
   * The default flows copied into a userDir that has no flow file yet. Default: the repo's
   * flows/flows.json, but only with our own nodes (no nodesDir given): with other nodes (tests'
   * stubs) its village nodes would be missing types, and Node-RED would not start the flows.
   */
  defaultFlows?: string | null;
  queueSize?: number;
  /**
   * An event still queued after this long (the child was down or stuck) is dropped, not delivered:
   * a flow acting on a door opened minutes ago as if it were now would mislead. Default 60 s.
   */
  maxEventAgeMs?: number;
  pingMs?: number;
  pongTimeoutMs?: number;
  startTimeoutMs?: number;
  restart?: { minMs: number; maxMs: number };
  crashLoop?: Partial<CrashLoopPolicy>;
  limits?: FlowRequestLimits;
  channelLimits?: ChannelLimits;
}

/** The heartbeat's and the start's timings, with their defaults. */
export const timingsOf = (o: SupervisorOptions) => ({
  pingMs: o.pingMs ?? 5000,
  pongTimeoutMs: o.pongTimeoutMs ?? 15_000,
  startTimeoutMs: o.startTimeoutMs ?? 30_000,
});
