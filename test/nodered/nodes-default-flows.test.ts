/** The shipped default flows (flows/flows.json) in a real Node-RED runtime with our nodes and the core ones they use. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OUR_NODES, core, errorLogs, helper, useNodeRedRuntime } from '../helpers/node-red-runtime.js';

const agent = useNodeRedRuntime();
const { villageIn, villageOut, villageAlert, villageStatus } = OUR_NODES;

describe('flows/flows.json', () => {
  const flows = JSON.parse(readFileSync(new URL('../../flows/flows.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >[];
  const coreNodes = [
    'common/20-inject.js',
    'common/21-debug.js',
    'common/25-catch.js',
    'common/90-comment.js',
    'function/10-switch.js',
    'function/15-change.js',
    'function/89-trigger.js',
  ].map(core);
  const ours = [villageIn, villageOut, villageAlert, villageStatus];

  it('every node type resolves to a core node or ours, and every node starts', async () => {
    await helper.load([...coreNodes, ...ours], flows);
    for (const n of flows)
      if (n.type !== 'tab' && !n.d) expect(helper.getNode(n.id as string), `${n.type} ${n.id}`).toBeTruthy();
    expect(errorLogs()).toEqual([]);
  });

  it('door held open: an alert for a door left open, none for one closed in time (the wait shortened)', async () => {
    agent.answer = () => ({ ok: true, result: { alertId: 'a1' } });
    const short = flows.map((n) => (n.type === 'trigger' ? { ...n, duration: '150', units: 'ms' } : n));
    await helper.load([...coreNodes, ...ours], short);
    agent.push({ deviceId: 'store-door', type: 'door.opened' });
    agent.push({ deviceId: 'school-door', type: 'door.opened' });
    await new Promise((r) => setTimeout(r, 30));
    agent.push({ deviceId: 'school-door', type: 'door.closed' });
    await new Promise((r) => setTimeout(r, 400));
    expect(agent.requests.map((r) => r.args)).toEqual([
      {
        message: 'Door store-door has been open for 5 minutes',
        deviceId: 'store-door',
        priority: 'high',
        sms: 'fallback',
        cause: { id: expect.any(String), type: 'door.opened', deviceId: 'store-door' },
        origin: expect.objectContaining({ nodeId: expect.any(String) }),
      },
    ]);
  });
});
