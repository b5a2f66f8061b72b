/**
 * Our Node-RED nodes (flows/nodes/) in a real Node-RED 4.1 runtime (node-red-node-test-helper),
 * talking through village-link to a fake agent on the far side of the transport: the transport
 * is our own edge (the runtime wires it to process IPC), so the fake speaks the plan's messages.
 */
import { describe, expect, it } from 'vitest';
import { OUR_NODES, collect, errorLogs, helper, settle, useNodeRedRuntime } from '../helpers/node-red-runtime.js';
import { ev, link, type Ev } from '../helpers/village-link-fake.js';

const { villageIn, villageOut, villageAlert, villageStatus, villageSnapshot, catchNode } = OUR_NODES;
const agent = useNodeRedRuntime();

describe('village in', () => {
  const flow = (cfg: Record<string, string>) => [
    { id: 'in', type: 'village in', ...cfg, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];

  it('passes an exact device and nothing else; payload, topic, event, tags', async () => {
    await helper.load(villageIn, flow({ device: 'storehouse-door' }));
    const out = collect('out');
    agent.push({ deviceId: 'other-door', type: 'door.opened' });
    agent.push({ deviceId: 'storehouse-door', type: 'door.opened', data: { line: 3, role: 'door' } }, ['store']);
    agent.push({ deviceId: 'storehouse-door-2', type: 'door.opened' });
    const [m] = await out.next(1);
    await settle();
    expect(out.msgs).toHaveLength(1);
    expect(m!.topic).toBe('door.opened');
    expect(m!.payload).toEqual({ line: 3, role: 'door' });
    expect((m!.event as Ev).deviceId).toBe('storehouse-door');
    expect(m!.tags).toEqual(['store']);
  });

  it('a device glob', async () => {
    await helper.load(villageIn, flow({ device: 'door-*' }));
    const out = collect('out');
    for (const d of ['door-1', 'pump-1', 'door-east', 'xdoor-1']) agent.push({ deviceId: d, type: 'door.opened' });
    await out.next(2);
    await settle();
    expect(out.msgs.map((m) => (m.event as Ev).deviceId)).toEqual(['door-1', 'door-east']);
  });

  it('a type prefix matches door.* but not doorbell.*; exact types in a list', async () => {
    await helper.load(villageIn, flow({ types: 'door.*, alarm.pressed' }));
    const out = collect('out');
    for (const type of ['door.opened', 'doorbell.rang', 'alarm.released', 'door.closed', 'alarm.pressed'])
      agent.push({ deviceId: 'd1', type });
    await out.next(3);
    await settle();
    expect(out.msgs.map((m) => m.topic)).toEqual(['door.opened', 'door.closed', 'alarm.pressed']);
  });

  it('a least priority: high passes critical and high only', async () => {
    await helper.load(villageIn, flow({ priority: 'high' }));
    const out = collect('out');
    for (const priority of ['low', 'critical', 'normal', 'high']) agent.push({ deviceId: 'd1', type: 'x.y', priority });
    await out.next(2);
    await settle();
    expect(out.msgs.map((m) => (m.event as Ev).priority)).toEqual(['critical', 'high']);
  });

  it('a tag the device must carry', async () => {
    await helper.load(villageIn, flow({ tag: 'panic-button' }));
    const out = collect('out');
    agent.push({ deviceId: 'b1', type: 'alarm.pressed' }, ['kitchen']);
    agent.push({ deviceId: 'b2', type: 'alarm.pressed' }, ['kitchen', 'panic-button']);
    agent.push({ deviceId: 'b3', type: 'alarm.pressed' });
    await out.next(1);
    await settle();
    expect(out.msgs.map((m) => (m.event as Ev).deviceId)).toEqual(['b2']);
  });

  it('two nodes get their own copies: a flow changing its msg does not change the other', async () => {
    await helper.load(
      [villageIn],
      [
        { id: 'in1', type: 'village in', wires: [['o1']] },
        { id: 'in2', type: 'village in', wires: [['o2']] },
        { id: 'o1', type: 'helper' },
        { id: 'o2', type: 'helper' },
      ],
    );
    const o1 = collect('o1');
    const o2 = collect('o2');
    helper.getNode('o1').on('input', (m) => ((m.payload as Record<string, unknown>).line = 99));
    agent.push({ deviceId: 'd1', type: 'door.opened', data: { line: 1 } });
    const [[a], [b]] = await Promise.all([o1.next(1), o2.next(1)]);
    expect(a!.payload).toEqual({ line: 99 });
    expect(b!.payload).toEqual({ line: 1 });
  });

  it('an invalid filter is an error naming the problem, and the node passes nothing', async () => {
    await helper.load(villageIn, flow({ types: 'Door Opened' }));
    const out = collect('out');
    agent.push({ deviceId: 'd1', type: 'door.opened' });
    await settle();
    expect(out.msgs).toHaveLength(0);
    expect(errorLogs()).toEqual([expect.stringContaining("type 'Door Opened' is neither a type")]);
  });

  it('unsubscribes on close: after the flow stops, events reach no listener', async () => {
    await helper.load(villageIn, flow({}));
    const out = collect('out');
    agent.push({ deviceId: 'd1', type: 'door.opened' });
    await out.next(1);
    const errorsBefore = link.stats.listenerErrors;
    await helper.unload();
    agent.push({ deviceId: 'd1', type: 'door.opened' });
    await settle();
    expect(out.msgs).toHaveLength(1);
    expect(link.stats.listenerErrors).toBe(errorsBefore);
  });
});

/** A node under test wired to a catch node that reports to a helper, and the node's status dots. */
async function loadWithCatch(nodes: unknown[], node: Record<string, unknown>, extra: Record<string, unknown>[] = []) {
  await helper.load(
    [...nodes, catchNode],
    [
      { id: 'n', ...node, wires: node.wires ?? [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['n'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      ...extra,
    ],
  );
  const statuses: { fill?: string; text?: string }[] = [];
  helper.getNode('n').on('call:status', (c) => statuses.push(c.args[0] as { text?: string }));
  return { out: collect('out'), caught: collect('caught'), statuses };
}

describe('village snapshot', () => {
  const node = { type: 'village snapshot', camera: 'gate-cam', channel: '', wires: [] };

  it("asks for the node's camera on any message; {snapshot, channel} names another; bad input asks nothing", async () => {
    const { caught, statuses } = await loadWithCatch([villageSnapshot], node);
    const n = helper.getNode('n');
    // A camera event's data has a channel of its own: only an explicit {snapshot} payload overrides the node.
    n.receive({ payload: { channel: 3, region: 'Gate' } });
    n.receive({ payload: { snapshot: 'yard-cam', channel: 2 } });
    n.receive({ payload: { snapshot: '../etc' } });
    n.receive({ payload: { snapshot: 'yard-cam', channel: 0 } });
    const msgs = await caught.next(2);
    await settle();
    expect(agent.requests.map((r) => [r.kind, r.args])).toEqual([
      ['snapshot', { camera: 'gate-cam' }],
      ['snapshot', { camera: 'yard-cam', channel: 2 }],
    ]);
    expect(msgs.map((m) => (m.error as { message: string }).message)).toEqual([
      expect.stringContaining('must be a device id'),
      expect.stringContaining('from 1 to 256'),
    ]);
    expect(statuses.some((s) => /^asked (gate|yard)-cam at /.test(s.text ?? ''))).toBe(true);
  });

  it("a refusal (the agent's rate limit) ends with done(err) and shows its code", async () => {
    agent.answer = () => ({ ok: false, error: { code: 'RATE_LIMITED', message: 'the next in 9 s' } });
    const { caught, statuses } = await loadWithCatch([villageSnapshot], node);
    helper.getNode('n').receive({ payload: 'go' });
    const [m] = await caught.next(1);
    expect((m!.error as { message: string }).message).toContain('the next in 9 s');
    expect(statuses.at(-1)).toEqual({ fill: 'red', shape: 'dot', text: 'RATE_LIMITED' });
  });
});

describe('village out', () => {
  const node = { type: 'village out', device: 'storehouse-io', output: 'relay1', action: 'msg', durationMs: '' };

  it('sends on, off and a pulse from msg.payload as output requests', async () => {
    const { statuses } = await loadWithCatch([villageOut], { ...node, wires: [] });
    const n = helper.getNode('n');
    n.receive({ payload: 'on' });
    n.receive({ payload: 'OFF' });
    n.receive({ payload: { action: 'pulse', durationMs: 1500 } });
    n.receive({ payload: 'pulse', durationMs: 700 });
    await settle();
    expect(agent.requests).toEqual([
      { id: expect.any(Number), kind: 'output', args: { device: 'storehouse-io', output: 'relay1', action: 'on' } },
      { id: expect.any(Number), kind: 'output', args: { device: 'storehouse-io', output: 'relay1', action: 'off' } },
      {
        id: expect.any(Number),
        kind: 'output',
        args: { device: 'storehouse-io', output: 'relay1', action: 'pulse', durationMs: 1500 },
      },
      {
        id: expect.any(Number),
        kind: 'output',
        args: { device: 'storehouse-io', output: 'relay1', action: 'pulse', durationMs: 700 },
      },
    ]);
    expect(statuses.at(-1)).toMatchObject({ fill: 'green', text: expect.stringMatching(/^pulse 700 ms at /) });
  });

  it("the node's own action: any message pulses for the node's duration", async () => {
    await loadWithCatch([villageOut], { ...node, action: 'pulse', durationMs: '3000', wires: [] });
    helper.getNode('n').receive({ payload: 'anything' });
    await settle();
    expect(agent.requests.map((r) => r.args)).toEqual([
      { device: 'storehouse-io', output: 'relay1', action: 'pulse', durationMs: 3000 },
    ]);
  });

  it('a refused output ends with done(err): the catch node gets it and the status shows the code', async () => {
    agent.answer = () => ({
      ok: false,
      error: { code: 'NOT_FLOW_WRITABLE', message: 'relay1 is not writable by flows' },
    });
    const { caught, statuses } = await loadWithCatch([villageOut], { ...node, wires: [] });
    helper.getNode('n').receive({ payload: 'on' });
    const [m] = await caught.next(1);
    expect((m!.error as { message: string }).message).toContain('relay1 is not writable by flows');
    expect(statuses.at(-1)).toEqual({ fill: 'red', shape: 'dot', text: 'NOT_FLOW_WRITABLE' });
  });

  it('invalid input is refused before any request: a bad action, a pulse with no duration', async () => {
    const { caught } = await loadWithCatch([villageOut], { ...node, wires: [] });
    const n = helper.getNode('n');
    n.receive({ payload: 'blink' });
    n.receive({ payload: 'pulse' });
    n.receive({ payload: { action: 'pulse', durationMs: -5 } });
    n.receive({ payload: 42 });
    const msgs = await caught.next(4);
    expect(msgs.map((m) => (m.error as { message: string }).message)).toEqual([
      expect.stringContaining("action 'blink' is not on, off or pulse"),
      expect.stringContaining('a pulse needs durationMs'),
      expect.stringContaining('a pulse needs durationMs'),
      expect.stringContaining('msg.payload must be'),
    ]);
    expect(agent.requests).toHaveLength(0);
  });
});

describe('village alert', () => {
  const node = { type: 'village alert', message: '', deviceId: '', priority: 'high', sms: 'fallback' };

  it("raises the node's message, or msg.payload, naming the event's device; sends the agent's answer on", async () => {
    agent.answer = (kind) => ({ ok: true, result: { alertId: `a-${agent.requests.length}`, kind } });
    await loadWithCatch([villageAlert], { ...node });
    const n = helper.getNode('n');
    const out = collect('out');
    const event = ev({ deviceId: 'storehouse-door', type: 'door.opened' });
    n.receive({ payload: 'Door storehouse-door open for 5 minutes', event });
    const [m] = await out.next(1);
    expect(agent.requests[0]).toMatchObject({
      kind: 'alert',
      args: {
        message: 'Door storehouse-door open for 5 minutes',
        deviceId: 'storehouse-door',
        priority: 'high',
        sms: 'fallback',
        // The event it came with is its cause for the county.
        cause: { id: event.id, type: 'door.opened', deviceId: 'storehouse-door' },
      },
    });
    expect(m!.payload).toEqual({ alertId: 'a-1', kind: 'alert' });
  });

  it('names its flow and itself, so the county knows which flow raised the alert', async () => {
    agent.answer = () => ({ ok: true, result: { alertId: 'a-1' } });
    await helper.load(
      [villageAlert],
      [
        { id: 'gate-tab', type: 'tab', label: 'Gate watch' },
        { id: 'n', z: 'gate-tab', ...node, name: 'gate left open', message: 'Gate open', wires: [] },
      ],
    );
    helper.getNode('n').receive({ payload: 'x' });
    await settle();
    expect(agent.requests.map((r) => r.args)).toEqual([
      {
        message: 'Gate open',
        priority: 'high',
        sms: 'fallback',
        origin: { flowId: 'gate-tab', flowName: 'Gate watch', nodeId: 'n', nodeName: 'gate left open' },
      },
    ]);
  });

  it("the node's message, priority and sms win; an empty message is refused", async () => {
    const { caught } = await loadWithCatch([villageAlert], {
      ...node,
      message: 'Water high',
      priority: 'critical',
      sms: 'always',
    });
    helper.getNode('n').receive({ payload: 'ignored' });
    await settle();
    expect(agent.requests.map((r) => r.args)).toEqual([
      { message: 'Water high', priority: 'critical', sms: 'always', origin: expect.objectContaining({ nodeId: 'n' }) },
    ]);
    await helper.unload();
    await loadWithCatch([villageAlert], { ...node });
    const caught2 = collect('caught');
    helper.getNode('n').receive({ payload: { not: 'a string' } });
    const [m] = await caught2.next(1);
    expect((m!.error as { message: string }).message).toContain('no message');
    expect(agent.requests).toHaveLength(1);
    expect(caught.msgs).toHaveLength(0);
  });

  it('a refusal from the agent is done(err) with its code in the status', async () => {
    agent.answer = () => ({ ok: false, error: { code: 'OUTBOX_FULL', message: 'the outbox is full' } });
    const { caught, statuses } = await loadWithCatch([villageAlert], { ...node, message: 'x' });
    helper.getNode('n').receive({ payload: '' });
    const [m] = await caught.next(1);
    expect((m!.error as { message: string }).message).toContain('the outbox is full');
    expect(statuses.at(-1)).toMatchObject({ text: 'OUTBOX_FULL' });
  });
});

describe('village status', () => {
  it('asks the agent and sends its status on as msg.payload', async () => {
    const status = { gateway: { id: 'gw-test' }, devices: [{ id: 'd1', online: true }], backlog: 3, link: 'up' };
    agent.answer = () => ({ ok: true, result: status });
    await loadWithCatch([villageStatus], { type: 'village status' });
    const out = collect('out');
    helper.getNode('n').receive({ topic: 'daily' });
    const [m] = await out.next(1);
    expect(agent.requests).toEqual([{ id: expect.any(Number), kind: 'status', args: {} }]);
    expect(m).toMatchObject({ topic: 'daily', payload: status });
  });

  it('no agent attached: NOT_CONNECTED through done(err)', async () => {
    link.detach();
    const { caught, statuses } = await loadWithCatch([villageStatus], { type: 'village status' });
    helper.getNode('n').receive({});
    const [m] = await caught.next(1);
    expect((m!.error as { message: string }).message).toContain('not connected');
    expect(statuses.at(-1)).toMatchObject({ text: 'NOT_CONNECTED' });
  });
});
