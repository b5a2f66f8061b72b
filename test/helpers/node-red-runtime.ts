/**
 * Our Node-RED nodes in a real Node-RED 4.1 runtime (node-red-node-test-helper), talking through
 * village-link to a fake agent on the far side of the transport: the transport is our own edge
 * (the runtime wires it to the agent's channel), so the fake speaks the channel's messages.
 */
import { createRequire } from 'node:module';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { FakeAgent, link } from './village-link-fake.js';

const require = createRequire(import.meta.url);
const NODES = '../../flows/nodes';

export interface Msg {
  [k: string]: unknown;
}
interface TestNode {
  on(ev: string, cb: (arg: Msg & { args: unknown[] }) => void): void;
  receive(msg: Msg): void;
}
interface Helper {
  init(path: string): void;
  startServer(cb: () => void): void;
  stopServer(cb: () => void): void;
  load(nodes: unknown, flow: unknown[]): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
}

export const helper = require('node-red-node-test-helper') as Helper;
export const core = (file: string) => require(`@node-red/nodes/core/${file}`) as unknown;

/** Messages a helper node receives, and a wait for the nth. */
export function collect(id: string): { msgs: Msg[]; next: (n?: number) => Promise<Msg[]> } {
  const msgs: Msg[] = [];
  const waiters: { n: number; resolve: (m: Msg[]) => void }[] = [];
  helper.getNode(id).on('input', (msg) => {
    msgs.push(msg);
    for (const w of [...waiters]) if (msgs.length >= w.n) w.resolve(msgs);
  });
  return {
    msgs,
    next: (n = msgs.length + 1) =>
      msgs.length >= n
        ? Promise.resolve(msgs)
        : new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`${id}: ${msgs.length} of ${n} messages`)), 3000);
            waiters.push({ n, resolve: (m) => (clearTimeout(t), resolve(m)) });
          }),
  };
}

/** What was logged at ERROR level (node.error, done(err)) since the flow was loaded. */
export function errorLogs(): string[] {
  const spy = (helper as unknown as { log(): { args: [{ level: number; msg: unknown }][]; ERROR: number } }).log();
  return spy.args.filter(([e]) => e.level === spy.ERROR).map(([e]) => String(e.msg));
}

export const settle = () => new Promise((r) => setTimeout(r, 50));

/** Our five nodes and the core catch node, as Node-RED loads them. */
export const OUR_NODES = {
  villageIn: require(`${NODES}/village-in.js`) as unknown,
  villageOut: require(`${NODES}/village-out.js`) as unknown,
  villageAlert: require(`${NODES}/village-alert.js`) as unknown,
  villageStatus: require(`${NODES}/village-status.js`) as unknown,
  villageSnapshot: require(`${NODES}/village-snapshot.js`) as unknown,
  catchNode: core('common/25-catch.js'),
};

/**
 * A runtime for each test of the calling file, our link attached to a fresh fake agent; returns
 * that agent (whichever test is running: a stand-in that always speaks for the current one).
 */
export function useNodeRedRuntime(): FakeAgent {
  let current = new FakeAgent();
  beforeAll(() => {
    helper.init(require.resolve('node-red'));
  });
  beforeEach(async () => {
    await new Promise<void>((r) => helper.startServer(r));
    current = new FakeAgent();
    link.attach(current);
  });
  afterEach(async () => {
    link.detach();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
  });
  return new Proxy({} as FakeAgent, {
    get: (_t, key) => {
      const v = Reflect.get(current, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(current) : v;
    },
    set: (_t, key, value) => Reflect.set(current, key, value),
  });
}
