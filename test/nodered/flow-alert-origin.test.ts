/**
 * What a technician's flow tells the county, and what the editor offers a technician, from the
 * running config: a `village in` -> `village alert` flow in a tab the technician named; a press
 * reaches the county as the flow's `alert.raised` naming the flow and the node (names and ids)
 * with the press as its cause, and the editor's picker endpoint lists the config's devices and
 * the outputs flows may drive. Real peers: Mosquitto, the Node-RED child with our nodes, the
 * panel on Modbus TCP, the county's subscriber.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { adminToken } from '../helpers/node-red.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const watchFlow = [
  { id: 'watch', type: 'tab', label: 'Night watch' },
  { id: 'presses', z: 'watch', type: 'village in', types: 'alarm.pressed', priority: 'low', wires: [['to-county']] },
  {
    id: 'to-county',
    z: 'watch',
    type: 'village alert',
    name: 'press seen by the flow',
    message: 'a flow saw a press',
    priority: 'high',
    sms: 'never',
    wires: [[]],
  },
];

describe("a flow's alert at the county, and the editor's pickers", () => {
  it('names the flow and node and the press that caused it; the pickers list the running config', async () => {
    const id = 'gw-flow-origin';
    const dir = tempDir();
    mkdirSync(join(dir, 'node-red'), { recursive: true });
    writeFileSync(join(dir, 'node-red', 'flows.json'), JSON.stringify(watchFlow));
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const village = panel.config();
    const board = village.devices[0] as { outputs: Record<string, Record<string, unknown>> };
    board.outputs['do8']!['flowWritable'] = true;
    const county = await new CountySubscriber({ url: brokerRef.current.url, clientId: `county-${id}` }).start();
    cleanup(() => county.stop());
    const agent = villageAgent({
      url: brokerRef.current.url,
      dir,
      panel,
      gatewayId: id,
      over: {
        ...village,
        nodeRed: {
          port: 0,
          users: [{ username: 'tech', password: 'tech-password' }],
          credentialSecret: 'secret-for-tests',
        },
      },
    });
    await agent.start();
    cleanup(() => agent.stop());
    await waitUntil(() => agent.observe.nodeRed()?.state === 'running', 60_000, 'Node-RED running');

    expect(await panel.press('di1'), 'the siren').toBe(true);
    const byType = (type: string) => [...county.events.values()].filter((e) => e.type === type && e.gatewayId === id);
    await county.waitFor(() => byType('alert.raised').some((e) => e.data['rule'] === 'flow'), 30_000);
    const press = byType('alarm.pressed')[0]!;
    const flowAlert = byType('alert.raised').find((e) => e.data['rule'] === 'flow')!;
    expect(flowAlert.data).toMatchObject({
      message: 'a flow saw a press',
      origin: { flowId: 'watch', flowName: 'Night watch', nodeId: 'to-county', nodeName: 'press seen by the flow' },
      causes: [{ id: press.id, type: 'alarm.pressed', deviceId: 'house-1-panic' }],
    });
    expect(flowAlert.data['reason']).toBe(
      'Node-RED node "press seen by the flow" (to-county) in flow "Night watch" (watch) raised it',
    );

    // The editor's pickers: what the running config offers, behind the editor's login.
    const url = agent.observe.nodeRed()!.url!;
    expect((await fetch(`${url}village-gateway/devices`)).status, 'no token, no list').toBe(401);
    const token = await adminToken(url, 'tech-password');
    const res = await fetch(`${url}village-gateway/devices`, { headers: { authorization: `Bearer ${String(token)}` } });
    expect(res.status).toBe(200);
    const pickers = (await res.json()) as { devices: { id: string }[]; outputs: unknown[] };
    expect(pickers.devices.map((d) => d.id).sort()).toEqual(['house-1-panic', 'house-2-panic', 'io']);
    expect(pickers.outputs).toEqual([{ device: 'io', output: 'do8' }]);
  });
});
