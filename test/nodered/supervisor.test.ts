/**
 * The Node-RED child under its supervisor, for real: a fork()ed Node-RED 4.1 serving the
 * admin API on a free port, logged into over HTTP, a flow deployed, events pushed in and
 * requests seen arriving at the agent's ports; a SIGKILLed child restarted; a flow that
 * runs the child out of memory at every start lands in safe mode with nodered.crash_loop.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OutputCommand } from '../../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { NodeRedSupervisor, type SupervisorOptions } from '../../agent/nodered/supervisor.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { adminToken, testNodeRedConfig } from '../helpers/node-red.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const stubNodes = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nodes');

/** `ports`: the agent's ports to replace (the rest record what reaches them). */
function rig(dataDir: string, over: Partial<SupervisorOptions> = {}, ports: Partial<SupervisorOptions['ports']> = {}) {
  const listeners = new Set<(e: GatewayEvent) => void>();
  const writes: OutputCommand[] = [];
  const emitted: EventInput[] = [];
  let seq = 0;
  const sup = new NodeRedSupervisor({
    config: testNodeRedConfig(),
    dataDir,
    gatewayId: 'gw-nr',
    logger: quietLogger(),
    flowWritable: new Set(['io/do7']),
    tagsOf: () => ['test'],
    nodesDir: stubNodes,
    ports: {
      onEvent: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      emit: (e) => void emitted.push(e),
      write: async (c) => void writes.push(c),
      raiseAlert: async () => 'alert-1',
      status: () => ({ ok: true }),
      ...ports,
    },
    restart: { minMs: 100, maxMs: 400 },
    ...over,
  });
  cleanup(() => sup.stop());
  const push = (type: string, data: Record<string, unknown>) => {
    seq += 1;
    const e = { id: `e${seq}`, seq, type, deviceId: 'io', priority: 'normal', data } as unknown as GatewayEvent;
    for (const l of listeners) l(e);
  };
  return { sup, writes, emitted, push };
}

async function login(url: string): Promise<string> {
  const token = await adminToken(url);
  expect(typeof token, `the admin login (HTTP ${token})`).toBe('string');
  return token as string;
}

describe('Node-RED in a supervised child', () => {
  it('logs in, refuses /flows without a token, deploys a flow, and carries events in and requests out', async () => {
    const { sup, writes, push } = rig(tempDir());
    const t0 = performance.now();
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 20_000, 'Node-RED ready');
    const startMs = performance.now() - t0;
    const url = sup.describe().url!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    // The passwords and the credential secret came over IPC: nothing in the child's environment shows them.
    const environ = readFileSync(`/proc/${sup.describe().pid}/environ`, 'utf8');
    expect(environ).not.toContain(testNodeRedConfig().users[0]!.password as string);
    expect(environ).not.toContain(testNodeRedConfig().credentialSecret as string);
    // Below the agent in the scheduler: field 19 of /proc/<pid>/stat is the nice value.
    const stat = readFileSync(`/proc/${sup.describe().pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(10);

    expect((await fetch(`${url}flows`)).status).toBe(401);
    expect(await adminToken(url, 'wrong')).toBe(403); // Node-RED answers a wrong password with 403
    const token = await login(url);
    const auth = { authorization: `Bearer ${token}` };
    const got = await fetch(`${url}flows`, { headers: auth });
    expect(got.status).toBe(200);

    const flow = [
      { id: 'tab1', type: 'tab', label: 'test' },
      { id: 'fwd', z: 'tab1', type: 'test-forward', wires: [['fn']] },
      { id: 'fn', z: 'tab1', type: 'function', func: 'msg.seen = true;\nreturn msg;', outputs: 1, wires: [[]] },
    ];
    const deployed = await fetch(`${url}flows`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    expect(deployed.status).toBe(204); // v1 flows API: deployed, no body
    // The deploy answers before the new flow's nodes run: push until the first request arrives.
    const forward = { kind: 'output', args: { device: 'io', output: 'do7', action: 'pulse', durationMs: 500 } };
    for (let i = 0; i < 50 && writes.length === 0; i++) {
      push('test.forward', forward);
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitUntil(() => writes.length >= 1, 2000, 'the output request at the agent');
    const pushed = sup.describe().sent;
    const written = writes.length;
    expect(writes[0]).toEqual({ deviceId: 'io', output: 'do7', action: 'pulse', durationMs: 500 });
    await new Promise((r) => setTimeout(r, 300)); // replies to the last pushes

    // Not declared flow-writable: refused, nothing written.
    push('test.forward', { kind: 'output', args: { device: 'io', output: 'do1', action: 'on' } });
    await waitUntil(() => sup.describe().refused === 1, 5000, 'the refusal');
    expect(writes.length).toBeLessThanOrEqual(written + 1); // only a late reply to a forward pushed before, never do1
    expect(writes.every((w) => w.output === 'do7')).toBe(true);

    // A heartbeat came back with the child's stats.
    // (pongs come every 5 s: wait for one that counts every event pushed, the refused one included)
    await waitUntil(() => sup.describe().childEvents === pushed + 1, 12_000, 'a pong counting every event');
    const d = sup.describe();
    expect(d.rssBytes).toBeGreaterThan(0);
    console.log(`Node-RED child: ready in ${Math.round(startMs)} ms, RSS ${Math.round(d.rssBytes! / 2 ** 20)} MB`);
  }, 30_000);

  it('restarts a SIGKILLed child, and queues (bounded) what arrives meanwhile', async () => {
    const { sup, emitted, push } = rig(tempDir(), { queueSize: 5, pingMs: 500 });
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 20_000, 'Node-RED ready');
    const pid = sup.pid!;
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => sup.describe().state !== 'running', 5000, 'the death noticed');
    for (let i = 0; i < 12; i++) push('test.ignored', { i });
    expect(sup.describe().queued).toBe(5);
    expect(sup.describe().dropped).toBe(7);
    await waitUntil(() => sup.describe().state === 'running' && sup.pid !== pid, 20_000, 'the restart');
    expect(sup.describe().restarts).toBe(1);
    expect(emitted.map((e) => e.type)).toEqual(['nodered.started', 'nodered.stopped', 'nodered.started']);
    expect(emitted[1]!.data).toMatchObject({ reason: 'exit', signal: 'SIGKILL' });
    await waitUntil(() => sup.describe().childEvents === 5, 5000, 'the queued events delivered');
  }, 60_000); // two Node-RED starts: each within 20 s, which a loaded 2-core machine needs

  it('counts starts across agent restarts: a flow that took the agent down still lands in safe mode', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node-red'), { recursive: true });
    // Three starts in the last minute, by agents that did not live to see the child exit.
    const now = Date.now();
    const starts = [now - 30_000, now - 20_000, now - 10_000];
    writeFileSync(join(dir, 'node-red-crash-loop.json'), JSON.stringify({ starts }));
    const { sup, emitted } = rig(dir, { crashLoop: { starts: 3, startsWindowMs: 60_000 } });
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 20_000, 'Node-RED ready');
    expect(sup.describe()).toMatchObject({ safeMode: true, crashLoop: true });
    expect(emitted.map((e) => e.type)).toEqual(['nodered.crash_loop', 'nodered.started']);
    expect(emitted[0]!.data).toMatchObject({ reason: 'starts', count: 3, windowSec: 60 });
    expect(emitted[1]!.data).toMatchObject({ safeMode: true });
    const recorded = JSON.parse(readFileSync(join(dir, 'node-red-crash-loop.json'), 'utf8')) as {
      starts: number[];
    };
    expect(recorded.starts).toHaveLength(4); // this start recorded too
  }, 30_000);

  it('survives a child that forges, floods and sends nonsense (a flow can reach process.send)', async () => {
    let statusCalls = 0;
    const alerts: unknown[] = [];
    // The agent's ports, counted: what a flood of status requests would cost the agent.
    const { sup, writes, emitted } = rig(
      tempDir(),
      { childPath: join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hostile-child.mjs'), pingMs: 200 },
      {
        status: () => ((statusCalls += 1), { ok: true }),
        raiseAlert: async (a) => (alerts.push(a), 'alert-x'),
      },
    );
    sup.start();
    await waitUntil(() => sup.describe().requests >= 2002, 10_000, 'the flood received');
    await waitUntil(() => (sup.describe().rssBytes ?? 0) > 0, 5000, 'a real pong after the forged one');
    expect(sup.describe().state).toBe('running');
    expect(emitted.filter((e) => e.type === 'nodered.started')).toHaveLength(1); // 51 readys, one start
    expect(writes).toEqual([]); // do1 is not flow-writable
    expect(alerts).toEqual([]); // a 1 MB device id is not a name
    expect(statusCalls).toBeLessThanOrEqual(60); // the request budget (50 a second) refused the rest unheard
    expect(sup.describe().refused).toBeGreaterThan(1900);
  }, 30_000);

  it('drops what waited too long for a dead child rather than hand flows old news', async () => {
    let skew = 0; // the supervisor's monotonic clock, pushed ahead while the child is down
    const { sup, push } = rig(tempDir(), {
      maxEventAgeMs: 60_000,
      pingMs: 500, // childEvents comes with each pong
      monoMs: () => performance.now() + skew,
    });
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 20_000, 'Node-RED ready');
    const pid = sup.pid!;
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => sup.describe().state !== 'running', 5000, 'the death noticed');
    for (let i = 0; i < 3; i++) push('test.ignored', { old: i });
    skew += 61_000; // a minute passes
    for (let i = 0; i < 2; i++) push('test.ignored', { fresh: i });
    await waitUntil(() => sup.describe().state === 'running' && sup.pid !== pid, 20_000, 'the restart');
    await waitUntil(() => sup.describe().childEvents === 2, 10_000, 'the fresh events delivered');
    expect(sup.describe()).toMatchObject({ dropped: 3, queued: 0, restarts: 1 });
  }, 30_000);

  it('a flow that kills the child at every start lands in safe mode with nodered.crash_loop', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node-red'), { recursive: true });
    // On Start, the function node allocates until V8 gives up (the child's heap is capped).
    const hog = 'const a = []; while (true) a.push(new Array(1e6).fill(1));';
    writeFileSync(
      join(dir, 'node-red', 'flows.json'),
      JSON.stringify([
        { id: 'tab1', type: 'tab', label: 'bad' },
        { id: 'hog', z: 'tab1', type: 'function', func: 'return msg;', initialize: hog, outputs: 1, wires: [[]] },
      ]),
    );
    const { sup, emitted } = rig(dir, {
      config: { ...testNodeRedConfig(), memoryMb: 64 },
      crashLoop: { starts: 3 },
      restart: { minMs: 50, maxMs: 100 },
    });
    sup.start();
    await waitUntil(() => sup.describe().crashLoop, 28_000, 'the crash loop');
    await waitUntil(() => sup.describe().state === 'running', 20_000, 'started in safe mode');
    const d = sup.describe();
    expect(d.safeMode).toBe(true);
    expect(d.restarts).toBe(3);
    const loop = emitted.find((e) => e.type === 'nodered.crash_loop');
    expect(loop?.priority).toBe('high');
    expect(emitted.at(-1)).toMatchObject({ type: 'nodered.started', data: { safeMode: true } });
  }, 60_000);
});
