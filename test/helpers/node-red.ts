/**
 * What the Node-RED tests share: a supervisor config for a loopback editor on a free port, an
 * admin login, and the CLI a technician on site runs against the same data folder.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import { NodeRedSupervisor, type SupervisorOptions } from '../../agent/nodered/supervisor.js';
import { CLI } from './agent-child.js';
import { quietLogger } from './quiet-logger.js';

/** The test nodes (test/nodered/fixtures/nodes) rather than ours: no agent link needed. */
export const STUB_NODES = join(dirname(fileURLToPath(import.meta.url)), '..', 'nodered', 'fixtures', 'nodes');

export const EDITOR_USER = { username: 'tech', password: 'village-pass' };

export const testNodeRedConfig = (): SupervisorOptions['config'] => ({
  enabled: true,
  host: '127.0.0.1',
  port: 0,
  users: [{ ...EDITOR_USER }],
  credentialSecret: 'a-credential-secret-for-tests',
  flowFile: 'flows.json',
  safeMode: false,
  httpNodeRoot: false,
  memoryMb: 128,
  user: 'village-gateway-flows',
  launch: 'spawn',
  allowNodes: [],
});

/** The admin API's token (POST /auth/token, client node-red-editor), or the HTTP status it answered instead. */
export async function adminToken(url: string, password = EDITOR_USER.password): Promise<string | number> {
  const res = await fetch(`${url}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '*',
      username: EDITOR_USER.username,
      password,
    }),
  });
  if (res.status !== 200) return res.status;
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A supervisor with ports that do nothing but keep its own events (nodered.*), for tests of the child's life. */
export function eventsOnlySupervisor(
  dataDir: string,
  config: Partial<SupervisorOptions['config']>,
  over: Partial<SupervisorOptions> = {},
): { sup: NodeRedSupervisor; emitted: EventInput[] } {
  const emitted: EventInput[] = [];
  const sup = new NodeRedSupervisor({
    config: { ...testNodeRedConfig(), ...config },
    dataDir,
    gatewayId: 'gw-nr',
    logger: quietLogger(),
    flowWritable: new Set(),
    tagsOf: () => [],
    ports: {
      onEvent: () => () => {},
      emit: (e) => void emitted.push(e),
      write: async () => {},
      raiseAlert: async () => 'alert-1',
      status: () => ({}),
    },
    restart: { minMs: 100, maxMs: 400 },
    ...over,
  });
  return { sup, emitted };
}

/** A gateway config (in `dir`) the CLI reads: the editor user of these tests and the given data folder. */
export function editorConfigFile(dir: string, dataDir: string): string {
  const file = join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'gateway: { id: gw-editor }',
      `dataDir: ${dataDir}`,
      'mqtt: { url: "mqtt://127.0.0.1:1" }',
      `nodeRed: { users: [{ username: ${EDITOR_USER.username}, password: ${EDITOR_USER.password} }], credentialSecret: s }`,
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * The real CLI, asynchronously: a supervisor under test runs in the test's process and must
 * keep polling for the CLI's request while the CLI waits for it to be taken.
 */
export function runCli(
  args: string[],
  input = '',
  as?: { uid: number; gid: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...as });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(input);
  });
}

/**
 * A supervisor for the editor's tests: the test nodes, no devices, no events in, its own events
 * collected in `emitted`. The caller stops it (a cleanup).
 */
export function editorSupervisor(
  dataDir: string,
  o: { emitted: EventInput[]; logger?: Logger; over?: Partial<SupervisorOptions> },
): NodeRedSupervisor {
  return new NodeRedSupervisor({
    config: testNodeRedConfig(),
    dataDir,
    gatewayId: 'gw-editor',
    logger: o.logger ?? quietLogger(),
    flowWritable: new Set(),
    tagsOf: () => [],
    nodesDir: STUB_NODES,
    ports: {
      onEvent: () => () => {},
      emit: (e) => void o.emitted.push(e),
      write: async () => {},
      raiseAlert: async () => 'alert-1',
      status: () => ({ ok: true }),
    },
    ...o.over,
  });
}

/** A flow: an inject node firing the function node `func` once at deploy and then every `repeatSec` (0: once). */
export const injectedFunction = (func: string, repeatSec = 0, tab = 'box') => [
  { id: `${tab}-tab`, type: 'tab', label: tab },
  {
    id: `${tab}-inject`,
    z: `${tab}-tab`,
    type: 'inject',
    once: true,
    onceDelay: 0.1,
    repeat: repeatSec ? String(repeatSec) : '',
    props: [{ p: 'payload' }],
    payload: '',
    payloadType: 'date',
    wires: [[`${tab}-fn`]],
  },
  { id: `${tab}-fn`, z: `${tab}-tab`, type: 'function', func, outputs: 1, wires: [[]] },
];

/** A whole agent's config sections for an agent child (the CLI): the county broker and an editor whose secrets come from its environment. */
export const agentWithEditor = (brokerUrl: string, port: number) => ({
  log: { level: 'warn' },
  clock: { synced: 'always' },
  health: { intervalSec: 3600 },
  mqtt: { url: brokerUrl, protocolVersion: 4, willDelaySec: 0, reconnect: { minMs: 100, maxMs: 1000 } },
  nodeRed: {
    port,
    users: [{ username: EDITOR_USER.username, password: { env: 'VG_TEST_EDITOR_PASSWORD' } }],
    credentialSecret: { env: 'VG_TEST_SECRET' },
  },
});

/** The environment `agentWithEditor`'s secrets come from. */
export const editorEnv = (secret = 'a-credential-secret') => ({
  VG_TEST_SECRET: secret,
  VG_TEST_EDITOR_PASSWORD: EDITOR_USER.password,
});
