/**
 * The Node-RED admin API as a technician's editor uses it (benchmarks and tests): log in
 * (`POST /auth/token`, client `node-red-editor`), deploy a flow (full), read a global
 * context value (`GET /context/global/<key>`, what the editor's context sidebar shows).
 */

export interface NodeRedAdmin {
  deploy(flow: unknown[]): Promise<void>;
  global(key: string): Promise<unknown>;
  /** The flows as the runtime holds them (`GET /flows`, what the editor loads). */
  flows(): Promise<unknown[]>;
}

export async function nodeRedAdmin(url: string, username: string, password: string): Promise<NodeRedAdmin> {
  const res = await fetch(`${url}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password }),
  });
  if (res.status !== 200) throw new Error(`Node-RED login answered ${res.status}`);
  const auth = { authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
  return {
    async deploy(flow) {
      const r = await fetch(`${url}flows`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(flow),
      });
      if (r.status !== 204 && r.status !== 200) throw new Error(`Node-RED deploy answered ${r.status}`);
    },
    async flows() {
      const r = await fetch(`${url}flows`, { headers: auth });
      if (r.status !== 200) throw new Error(`Node-RED flows read answered ${r.status}`);
      return (await r.json()) as unknown[];
    },
    async global(key) {
      const r = await fetch(`${url}context/global/${encodeURIComponent(key)}`, { headers: auth });
      if (r.status !== 200) throw new Error(`Node-RED context read answered ${r.status}`);
      // One store: {msg, format}; several: {<store>: {msg, format}}.
      const body = (await r.json()) as Record<string, unknown>;
      if (process.env.NR_DEBUG) console.error(key, JSON.stringify(body));
      const entry = (typeof body.msg === 'string' ? body : Object.values(body)[0]) as
        { msg?: string; format?: string } | undefined;
      if (entry?.msg === undefined || entry.format === 'undefined') return undefined;
      return entry.format === 'string' ? entry.msg : (JSON.parse(entry.msg) as unknown);
    },
  };
}

/** `village in` (every event) into a function node. */
export function flowInto(func: string): unknown[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    {
      id: 'bench-in',
      z: 'bench-tab',
      type: 'village in',
      name: 'all',
      device: '',
      tag: '',
      types: '',
      priority: 'low',
      wires: [['bench-fn']],
    },
    { id: 'bench-fn', z: 'bench-tab', type: 'function', func, outputs: 1, wires: [[]] },
  ];
}

/** Counts what reaches the flow, with the first and last arrival's wall-clock time. */
export const COUNTING_FUNC = [
  "const n = (global.get('n') || 0) + 1;",
  "global.set('n', n);",
  "if (n === 1) global.set('first', Date.now());",
  "global.set('last', Date.now());",
  'return null;',
].join('\n');

/** Spins forever after an await: the function node's timeout cannot cut it; the child's event loop is stuck. */
export const BUSY_FUNC = 'await new Promise((r) => setTimeout(r, 10));\nwhile (true) {}\nreturn msg;';
