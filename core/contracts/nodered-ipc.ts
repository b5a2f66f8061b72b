/**
 * The IPC protocol between the agent and its Node-RED child (plan-10.md): JSON-serialisable
 * messages over process.send. It lives in contracts because both sides use it: the agent's
 * supervisor (agent/nodered/) and the child (flows/runtime/, which re-exports it as
 * protocol.ts); the runtime layer may not import flows/.
 */
import type { CoreNodeGroup } from './core-nodes.js';
import type { GatewayEvent } from './event.js';

export type FlowOutputAction = 'on' | 'off' | 'pulse';

export interface OutputRequestArgs {
  device: string;
  output: string;
  action: FlowOutputAction;
  durationMs?: number;
}

export interface AlertRequestArgs {
  message: string;
  deviceId?: string;
  priority?: 'critical' | 'high';
  sms?: 'fallback' | 'always' | 'never';
  /** The flow and node that raised it (`village alert` sends its own), for the county's `alert.raised`. */
  origin?: FlowOrigin;
  /** The event that led to it (a `village in`'s msg.event), the alert's cause for the county. */
  cause?: { id: string; type: string; deviceId: string };
}

/** A flow asks for a camera's picture: it is stored and sent as the mode says; the flow sees only camera.picture. */
export interface SnapshotRequestArgs {
  camera: string;
  /** The video channel (1-based); default 1. */
  channel?: number;
}

/** A flow's alert as the agent raises it: checked, defaults filled in, the origin and cause as the flow gave them. */
export type FlowAlert = Required<Pick<AlertRequestArgs, 'message' | 'priority' | 'sms'>> &
  Pick<AlertRequestArgs, 'origin' | 'cause'> & { deviceId: string };

/** Which flow and node raised an alert: ids as Node-RED gives them, names as the technician wrote them. */
export interface FlowOrigin {
  flowId: string;
  flowName?: string;
  nodeId: string;
  nodeName?: string;
}

/** The answer to `devices`: what the editor's pickers offer (event device ids and flow-writable outputs). */
export interface FlowDevices {
  devices: { id: string; tags: string[] }[];
  outputs: { device: string; output: string }[];
}

export type RequestKind = 'output' | 'alert' | 'status' | 'devices' | 'snapshot';

export interface ChildStats {
  /** Events the child has taken in since it started. */
  events: number;
  rssBytes: number;
}

/** parent -> child */
export type ToChild =
  | {
      t: 'event';
      event: GatewayEvent;
      /** The device's configured tags (what `village in` filters on). */ tags?: string[];
    }
  | { t: 'ping'; n: number }
  | { t: 'reply'; id: number; ok: true; result: unknown }
  | { t: 'reply'; id: number; ok: false; error: { code: string; message: string } }
  | { t: 'stop' }
  /** A technician cleared the editor's login blocks (`village-gateway editor unlock`). */
  | { t: 'unlock' }
  /** The first message, once: the child starts nothing before it. */
  | { t: 'init'; options: ChildOptions };

/** child -> parent */
export type FromChild =
  | { t: 'ready'; url: string; safeMode: boolean }
  | { t: 'pong'; n: number; stats: ChildStats }
  | { t: 'request'; id: number; kind: 'output'; args: OutputRequestArgs }
  | { t: 'request'; id: number; kind: 'alert'; args: AlertRequestArgs }
  | { t: 'request'; id: number; kind: 'status'; args: Record<string, never> }
  | { t: 'request'; id: number; kind: 'devices'; args: Record<string, never> }
  | { t: 'request'; id: number; kind: 'snapshot'; args: SnapshotRequestArgs }
  /** `runtime`: the child's own start-up and stop code says it (NODE_RED_FAILED), not Node-RED or a flow (NODE_RED_LOG). */
  | { t: 'log'; level: LogLevel; msg: string; runtime?: true }
  /** Once per start, before `ready`, when the flow file uses core nodes the child did not load. */
  | { t: 'nodes_excluded'; total: number; nodes: ExcludedNodeReport[] }
  | { t: 'login_failed'; failure: LoginFailure };

/** A node of the flow file that does not run: its type is not loaded (core/contracts/core-nodes.ts). */
export interface ExcludedNodeReport {
  id: string;
  type: string;
  name: string | null;
  /** The label of its tab (or the name of its subflow). */
  flow: string | null;
}

/** At most this many excluded nodes are listed in a message (`total` counts them all). */
export const MAX_EXCLUDED_LISTED = 50;

/** A failed editor login, as the child's front (flows/runtime/editor-front.ts) saw it. */
export interface LoginFailure {
  /** The client as the front counts it: the TCP peer's IPv4 address, or its IPv6 /64 network. */
  client: string;
  /** The username tried, cut to 64 characters. */
  username: string;
  /** Failures in a row from this client (reset by a good login from it). */
  inRow: number;
  /** Failures since the child started, from all clients. */
  total: number;
  /** How long this client is now refused (0: not blocked). */
  blockedMs: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
const MAX_TEXT = 2000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length <= max;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

const isTextOrNull = (v: unknown, max: number): boolean => v === null || isText(v, max);
const isExcludedNode = (n: unknown): n is ExcludedNodeReport =>
  isObject(n) &&
  isText(n['id'], 64) &&
  isText(n['type'], 64) &&
  isTextOrNull(n['name'], 200) &&
  isTextOrNull(n['flow'], 200);

/**
 * A full check of a message from the child, field by field. The child runs technicians' flows,
 * and a function node can reach `process.send`: a message may be anything, so nothing of it is
 * used before it passes here (a request's args are checked again where they are used).
 */
export function isFromChild(m: unknown): m is FromChild {
  if (!isObject(m)) return false;
  switch (m['t']) {
    case 'ready':
      return isText(m['url'], 200) && typeof m['safeMode'] === 'boolean';
    case 'pong':
      return (
        Number.isSafeInteger(m['n']) &&
        isObject(m['stats']) &&
        isCount(m['stats']['events']) &&
        isCount(m['stats']['rssBytes'])
      );
    case 'request':
      return Number.isSafeInteger(m['id']) && isText(m['kind'], 32) && isObject(m['args']);
    case 'log':
      return (
        typeof m['level'] === 'string' &&
        LOG_LEVELS.includes(m['level']) &&
        isText(m['msg'], 100_000) &&
        (m['runtime'] === undefined || m['runtime'] === true)
      );
    case 'nodes_excluded':
      return (
        isCount(m['total']) &&
        Array.isArray(m['nodes']) &&
        m['nodes'].length <= MAX_EXCLUDED_LISTED &&
        m['nodes'].every(isExcludedNode)
      );
    case 'login_failed': {
      const f = m['failure'];
      return (
        isObject(f) &&
        isText(f['client'], 64) &&
        isText(f['username'], 64) &&
        Number.isSafeInteger(f['inRow']) &&
        isCount(f['inRow']) &&
        Number.isSafeInteger(f['total']) &&
        isCount(f['total']) &&
        isCount(f['blockedMs'])
      );
    }
    default:
      return false;
  }
}

/**
 * What the agent passes to the child at start, as its first IPC message (`init`): never in the
 * environment or the command line, where a flow's `env.get` or another process reading
 * /proc/<pid>/environ could see the passwords and the credential secret.
 */
export interface ChildOptions {
  userDir: string;
  flowFile: string;
  host: string;
  port: number;
  credentialSecret: string;
  /**
   * Plain passwords from the config's secrets; the child hashes them with bcrypt. A user whose
   * password a technician reset (`village-gateway editor password`) comes with its bcrypt hash
   * instead, and an empty password.
   */
  users: { username: string; password: string; passwordHash?: string }[];
  safeMode: boolean;
  httpNodeRoot: string | false;
  /** Where our nodes live (flows/nodes); null: the child finds them next to itself. */
  nodesDir: string | null;
  /**
   * The shipped default flows (flows/flows.json), copied to userDir/flowFile when that file does
   * not exist (first start only; never over a file that exists, even an empty one). null: none.
   */
  defaultFlows: string | null;
  logLevel: LogLevel;
  /**
   * Core nodes that reach the OS or raw sockets the flows may use anyway (config
   * `nodeRed.allowNodes`); the others are not loaded (core/contracts/core-nodes.ts). Absent: none.
   */
  allowNodes?: CoreNodeGroup[];
}
