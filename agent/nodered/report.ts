/** What the Node-RED supervisor (supervisor.ts) tells of the child: `status`, devices.json, the observation. */
import type { ExcludedNodesSummary } from './excluded-nodes.js';

export type NodeRedState = 'stopped' | 'starting' | 'running' | 'restarting' | 'stopping';

export interface NodeRedReport {
  state: NodeRedState;
  pid: number | null;
  url: string | null;
  restarts: number;
  /** Events dropped from the queue to the child: the oldest when it was full, and those too old when their turn came. */
  dropped: number;
  queued: number;
  sent: number;
  safeMode: boolean;
  crashLoop: boolean;
  /** Sampled by the agent from /proc/<pid>/status at every heartbeat (spawn), else from the last pong. */
  rssBytes: number | null;
  /** Frames that broke the channel's limits (oversized, not JSON): each ended the connection and the child. */
  violations: number;
  childEvents: number | null;
  requests: number;
  refused: number;
  lastStartMs: number | null;
  /** Flow nodes the child left out at its last start (core nodes that are off); null: none. */
  excludedNodes: ExcludedNodesSummary | null;
  /** Failed editor logins since the agent started (login-watch.ts). */
  loginFailures: number;
}

/** The child's life as a flows push's probation judges it (agent/push/flows-probation.ts): counted since the agent started. */
export interface ChildLife {
  /** Times a child said ready. */
  ready: number;
  /** Pongs from the child that said ready last. */
  pongsSinceReady: number;
  /** Exits the agent did not ask for (crashes, heartbeat, start-time, memory or channel kills). */
  crashes: number;
  lastCrash: { reason: string; code: number | null; signal: string | null } | null;
}
