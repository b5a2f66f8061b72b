/**
 * The Node-RED settings the child starts with: a pure function of the options the agent
 * passed and the users' bcrypt hashes, so the lock-down can be checked by a unit test.
 * Offline and locked down (issue 10): telemetry and update notifications off (settings win
 * over a choice made in the editor), no palette or module installs, no projects, no
 * diagnostics, no npm modules in function nodes, `httpNodeRoot` off unless configured.
 */
import { nodesExcludes } from '../../core/contracts/core-nodes.js';
import { DEPLOY_MAX_BYTES } from './editor-front.js';
import type { ChildOptions, LogLevel } from './protocol.js';

/** Node-RED's numeric log levels (@node-red/util/lib/log.js), to ours. */
const LEVEL_NAMES: Record<number, LogLevel> = {
  10: 'fatal',
  20: 'error',
  30: 'warn',
  40: 'info',
  50: 'debug',
  60: 'trace',
};
export const levelName = (n: number): LogLevel => LEVEL_NAMES[n] ?? 'info';

export interface NodeRedLogMessage {
  level: number;
  msg?: unknown;
  type?: string;
  id?: string;
  name?: string;
}

export interface SettingsInput {
  options: ChildOptions;
  /** The users with their passwords already hashed (bcrypt). */
  users: { username: string; passwordHash: string }[];
  nodesDir: string;
  /** Where Node-RED's own log lines go (the child sends them to the agent). */
  log: (level: LogLevel, msg: string) => void;
  /** Node-RED's storage: its own file storage, wrapped to leave excluded nodes out (excluded-nodes.ts). */
  storageModule?: unknown;
}

const text = (m: NodeRedLogMessage): string => {
  const body =
    m.msg instanceof Error ? (m.msg.stack ?? m.msg.message) : typeof m.msg === 'string' ? m.msg : JSON.stringify(m.msg);
  return m.type ? `[${m.type}:${m.name ?? m.id ?? ''}] ${body}` : body;
};

export function buildSettings(s: SettingsInput): Record<string, unknown> {
  const o = s.options;
  return {
    userDir: o.userDir,
    flowFile: o.flowFile,
    flowFilePretty: true,
    credentialSecret: o.credentialSecret,
    uiHost: o.host,
    uiPort: o.port,
    httpAdminRoot: '/',
    httpNodeRoot: o.httpNodeRoot,
    httpStatic: false,
    // The same bound as the front's (editor-front.ts), for bodies sent without a length.
    apiMaxLength: DEPLOY_MAX_BYTES,
    httpNodeMaxLength: DEPLOY_MAX_BYTES,
    // No users configured: the editor is open, which the config allows only on loopback.
    ...(s.users.length > 0
      ? {
          adminAuth: {
            type: 'credentials',
            users: s.users.map((u) => ({ username: u.username, password: u.passwordHash, permissions: '*' })),
          },
        }
      : {}),
    nodesDir: [s.nodesDir],
    // Core nodes that reach the OS or raw sockets are not loaded unless the config names them.
    nodesExcludes: nodesExcludes(o.allowNodes),
    ...(s.storageModule ? { storageModule: s.storageModule } : {}),
    safeMode: o.safeMode,
    functionExternalModules: false,
    functionGlobalContext: {},
    // A synchronous busy loop in a function node is cut here; one after an await is not (the
    // agent's heartbeat restarts the child then).
    globalFunctionTimeout: 5,
    externalModules: {
      autoInstall: false,
      autoInstallRetry: 0,
      // Nothing from the palette or a node_modules dropped in userDir loads: only our own nodes
      // (flows/nodes, package node-red-contrib-village) and Node-RED's core ones. A denyList of '*'
      // alone blocked ours too (the browser test found it: nodesDir modules pass the same check).
      palette: { allowInstall: false, allowUpload: false, allowList: ['node-red-contrib-village'], denyList: ['*'] },
      modules: { allowInstall: false, allowList: [], denyList: ['*'] },
    },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    editorTheme: {
      projects: { enabled: false },
      tours: false,
      palette: { catalogues: [] },
      library: { sources: [] },
      multiplayer: { enabled: false },
    },
    logging: {
      console: { level: 'off' },
      agent: {
        level: o.logLevel,
        metrics: false,
        audit: false,
        handler: () => (m: NodeRedLogMessage) => s.log(levelName(m.level), text(m)),
      },
    },
    exportGlobalContextKeys: false,
  };
}

/** Whether a host name or address is this machine only. */
export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
