/** What the Node-RED tests share: a supervisor config for a loopback editor on a free port, and an admin login. */
import type { EventInput } from '../../agent/contracts/event.js';
import { NodeRedSupervisor, type SupervisorOptions } from '../../agent/nodered/supervisor.js';
import { quietLogger } from './quiet-logger.js';

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
