/**
 * A stranger's flows after an upgrade, against a real Node-RED child and a real Modbus TCP
 * device (the panic panel's board on modbus-serial's ServerTCP): a `tcp request` node that
 * writes a coil straight to the board (no code: an inject of 12 bytes), an `exec` node that
 * would run a command, and the technician's `village in`/`village out` flow beside them.
 * By default the first two are not loaded: the coil stays off and the command does not run,
 * the village flow still runs (an output written through the agent, an event seen), the agent
 * raises `nodered.nodes_excluded` and `status` says so; the flow file on disk is as it was.
 * With `nodeRed.allowNodes: ['tcp']` the same flow writes the coil: the switch is real.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { formatStatus, statusReport } from '../../agent/status-report.js';
import { nodeRedAdmin, type NodeRedAdmin } from '../../scripts/bench/nodered-admin.js';
import { testConfig } from '../helpers/agent-config.js';
import type { NodeRedInput } from '../helpers/config-input.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

/** do3 (coil 2): no rule and no flowWritable output touches it; only the tcp request node could. */
const RAW_COIL = 2;
/** do5 (coil 4): flow-writable, driven by the village out node. */
const FLOW_COIL = 4;

/** Modbus TCP "write single coil" (FC 5) to unit 1, coil 2, on: MBAP header then PDU. */
const WRITE_COIL = [0, 1, 0, 0, 0, 6, 1, 5, 0, RAW_COIL, 0xff, 0];

/** An inject that fires once, half a second after the flows start. */
const injectOnce = (id: string, z: string, to: string) => ({
  id,
  z,
  type: 'inject',
  once: true,
  onceDelay: 0.5,
  props: [{ p: 'payload' }],
  payload: '',
  payloadType: 'str',
  wires: [[to]],
});

/** A function node counting its messages in a global (what the test reads through the admin API). */
const counter = (id: string, z: string, key: string) => ({
  id,
  z,
  type: 'function',
  func: `global.set('${key}', (global.get('${key}') || 0) + 1); return msg;`,
  outputs: 1,
  wires: [[]],
});

function strangerFlows(port: number, marker: string): unknown[] {
  const flows: Record<string, unknown>[] = [
    { id: 'tab-raw', type: 'tab', label: 'raw coil' },
    {
      id: 'raw-inject',
      z: 'tab-raw',
      type: 'inject',
      once: true,
      onceDelay: 0.5,
      repeat: '1',
      payloadType: 'bin',
      payload: JSON.stringify(WRITE_COIL),
      props: [{ p: 'payload' }],
      wires: [['raw-tcp', 'raw-count']],
      x: 100,
      y: 100,
    },
    {
      id: 'raw-tcp',
      z: 'tab-raw',
      type: 'tcp request',
      name: 'write coil',
      server: '127.0.0.1',
      port: String(port),
      out: 'time',
      splitc: '200',
      ret: 'buffer',
      wires: [[]],
      x: 300,
      y: 100,
    },
    // Counts the inject's messages: the coil's silence means something only once it fired.
    counter('raw-count', 'tab-raw', 'rawTicks'),
    { id: 'tab-exec', type: 'tab', label: 'shell' },
    injectOnce('exec-inject', 'tab-exec', 'exec-node'),
    {
      id: 'exec-node',
      z: 'tab-exec',
      type: 'exec',
      command: `touch ${marker}`,
      addpay: '',
      append: '',
      useSpawn: 'false',
      timer: '',
      oldrc: false,
      wires: [[], [], []],
    },
    { id: 'tab-village', type: 'tab', label: 'village' },
    injectOnce('v-inject', 'tab-village', 'v-out'),
    { id: 'v-out', z: 'tab-village', type: 'village out', device: 'io', output: 'do5', action: 'on', wires: [] },
    {
      id: 'v-in',
      z: 'tab-village',
      type: 'village in',
      device: '',
      tag: '',
      types: 'alarm.pressed',
      priority: 'low',
      wires: [['v-count']],
    },
    counter('v-count', 'tab-village', 'presses'),
  ];
  // A node without a position is a config node to Node-RED: every flow node gets one.
  return flows.map((n, i) => (n['type'] === 'tab' ? n : { x: 100 + 200 * (i % 3), y: 100, ...n }));
}

async function village(allowNodes: NonNullable<NodeRedInput['allowNodes']>) {
  const panel = await new PanicPanel().start();
  cleanup(() => panel.sim.close());
  const dir = tempDir();
  const marker = join(dir, 'exec-ran');
  const flowFile = join(dir, 'data', 'node-red', 'flows.json');
  mkdirSync(join(dir, 'data', 'node-red'), { recursive: true });
  const onDisk = JSON.stringify(strangerFlows(panel.port, marker), null, 2);
  writeFileSync(flowFile, onDisk); // the technician's flows, kept through an upgrade
  const parts = panel.config();
  (parts.devices[0] as { outputs: Record<string, unknown> }).outputs['do5'] = { flowWritable: true };
  const config = testConfig('mqtt://127.0.0.1:1', join(dir, 'data'), {
    gateway: { id: 'gw-nodes' },
    ...parts,
    nodeRed: {
      port: 0,
      users: [{ username: 'tech', password: 'village-pass' }],
      credentialSecret: 'secret-for-tests',
      ...(allowNodes.length > 0 ? { allowNodes } : {}), // absent: the default
    },
  });
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  const events: GatewayEvent[] = [];
  agent.observe.onEvent((e) => events.push(e));
  await agent.start();
  cleanup(() => agent.stop());
  await waitUntil(() => agent.observe.nodeRed()?.state === 'running', 60_000, 'Node-RED ready');
  const coil = (address: number) => panel.sim.writes.some((w) => w.address === address && w.value === true);
  // The village flow runs: its inject drives do5 through the agent, and a press reaches village in.
  await waitUntil(() => coil(FLOW_COIL), 30_000, 'the village out node driving do5');
  panel.board.set('di1', true);
  await waitUntil(() => panel.sirens >= 1, 30_000, 'the siren for the press');
  const admin = await nodeRedAdmin(agent.observe.nodeRed()!.url!, 'tech', 'village-pass');
  await globalReaches(admin, 'presses', 1, 'the press seen by village in');
  return { agent, config, events, coil, marker, flowFile, onDisk, admin };
}

/** Polls a global context value (the admin API is async, waitUntil is not) until it is at least `n`. */
async function globalReaches(admin: NodeRedAdmin, key: string, n: number, what: string): Promise<void> {
  let v: unknown;
  for (let i = 0; i < 150 && !(typeof v === 'number' && v >= n); i++) {
    v = await admin.global(key);
    if (!(typeof v === 'number' && v >= n)) await new Promise((r) => setTimeout(r, 200));
  }
  expect(v, what).toBeGreaterThanOrEqual(n);
}

describe('core nodes that reach the OS or raw sockets', () => {
  it('are off by default: a tcp request node does not write the coil, exec does not run, the rest runs and is reported', async () => {
    const v = await village([]);
    // The raw flow's inject fires every second: ten times is ten chances for the coil, and time
    // for the exec node's shell (on today's code both happen well within it, on a loaded machine too).
    await globalReaches(v.admin, 'rawTicks', 10, "the raw flow's inject firing");
    expect(v.coil(RAW_COIL)).toBe(false);
    expect(existsSync(v.marker)).toBe(false);
    // What runs, as the editor sees it: comments in their place.
    const running = (await v.admin.flows()) as { id: string; type: string }[];
    expect(running.filter((n) => n.id === 'raw-tcp' || n.id === 'exec-node').map((n) => n.type)).toEqual([
      'comment',
      'comment',
    ]);

    const reported = v.events.filter((e) => e.type === 'nodered.nodes_excluded');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ priority: 'high', deviceId: 'gw-nodes' });
    expect(reported[0]!.data).toEqual({
      total: 2,
      types: ['exec', 'tcp request'],
      nodes: [
        { id: 'raw-tcp', type: 'tcp request', name: 'write coil', flow: 'raw coil' },
        { id: 'exec-node', type: 'exec', name: null, flow: 'shell' },
      ],
    });
    // The technician's file is as it was (until a deploy from the editor), and a copy is kept.
    expect(readFileSync(v.flowFile, 'utf8')).toBe(v.onDisk);
    expect(readFileSync(`${v.flowFile}.excluded-nodes.bak`, 'utf8')).toBe(v.onDisk);

    await v.agent.stop(); // writes the last status view
    const lines = formatStatus(statusReport(v.config)).split('\n');
    expect(lines).toContain('flows    2 NODES OFF: exec,tcp request');
    expect(lines).toContain('  in raw coil, shell');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
  }, 180_000);

  it('run when nodeRed.allowNodes names them: the same tcp request node writes the coil', async () => {
    const v = await village(['tcp']);
    await waitUntil(() => v.coil(RAW_COIL), 30_000, 'the tcp request node writing coil 2');
    expect(existsSync(v.marker)).toBe(false); // exec is still off
    const reported = v.events.filter((e) => e.type === 'nodered.nodes_excluded');
    expect(reported.map((e) => e.data)).toEqual([
      { total: 1, types: ['exec'], nodes: [{ id: 'exec-node', type: 'exec', name: null, flow: 'shell' }] },
    ]);
  }, 180_000);
});
