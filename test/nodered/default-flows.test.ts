/**
 * The default flows (flows/flows.json) on first start, never over a flow file that exists:
 * a real agent with our real nodes, its Node-RED child logged into over HTTP; a technician's
 * deploy survives the agent's restart; and the copy itself (installDefaultFlows) leaves an
 * existing file alone, even an empty one.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { installDefaultFlows } from '../../flows/runtime/default-flows.js';
import { testConfig } from '../helpers/agent-config.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const SHIPPED = fileURLToPath(new URL('../../flows/flows.json', import.meta.url));
type FlowNode = { id: string; type: string; z?: string; label?: string };
const shipped = JSON.parse(readFileSync(SHIPPED, 'utf8')) as FlowNode[];

async function startAgent(dir: string): Promise<{ agent: Agent; url: string; token: string }> {
  const config = testConfig('mqtt://127.0.0.1:1', dir, {
    gateway: { id: 'gw-nr-defaults' },
    nodeRed: { port: 0, users: [{ username: 'tech', password: 'village-pass' }], credentialSecret: 'secret-for-tests' },
  });
  // No nodesDir: our own nodes (flows/nodes), and with them the shipped default flows.
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  await agent.start();
  cleanup(() => agent.stop());
  await waitUntil(() => agent.observe.nodeRed()?.state === 'running', 20_000, 'Node-RED ready');
  const url = agent.observe.nodeRed()!.url!;
  const res = await fetch(`${url}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '*',
      username: 'tech',
      password: 'village-pass',
    }),
  });
  expect(res.status).toBe(200);
  return { agent, url, token: ((await res.json()) as { access_token: string }).access_token };
}

async function getFlows(url: string, token: string): Promise<FlowNode[]> {
  const res = await fetch(`${url}flows`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as FlowNode[];
}

const ids = (flows: FlowNode[]) => flows.map((n) => n.id).sort();

describe('default flows', () => {
  it('first start has the shipped default flows; a deployed flow survives a restart of the agent', async () => {
    const dir = tempDir();
    const flowFile = join(dir, 'node-red', 'flows.json');
    expect(existsSync(flowFile)).toBe(false);

    const first = await startAgent(dir);
    const flows = await getFlows(first.url, first.token);
    const village = flows.filter((n) => n.type.startsWith('village ')).map((n) => n.type);
    expect(new Set(village)).toEqual(new Set(['village in', 'village out', 'village alert', 'village status']));
    expect(ids(flows)).toEqual(ids(shipped));

    // The technician replaces them with their own flow.
    const mine: FlowNode[] = [
      { id: 'techtab', type: 'tab', label: 'my village' },
      { id: 'techinject', type: 'inject', z: 'techtab', wires: [[]] } as FlowNode,
    ];
    const deployed = await fetch(`${first.url}flows`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${first.token}`,
        'content-type': 'application/json',
        'Node-RED-Deployment-Type': 'full',
      },
      body: JSON.stringify(mine),
    });
    expect(deployed.status).toBe(204);
    await waitUntil(() => readFileSync(flowFile, 'utf8').includes('techtab'), 5000, 'the deploy saved');
    await first.agent.stop();

    const second = await startAgent(dir);
    const after = await getFlows(second.url, second.token);
    expect(ids(after)).toEqual(['techinject', 'techtab']);
    expect(after.find((n) => n.id === 'techtab')?.label).toBe('my village');
    expect(readFileSync(flowFile, 'utf8')).not.toContain('village in');
  }, 60_000);

  it('installDefaultFlows copies only where there is no flow file, and leaves no temporary file', () => {
    const dir = tempDir();
    const userDir = join(dir, 'node-red');
    expect(installDefaultFlows(userDir, 'flows.json', SHIPPED)).toBe('copied');
    expect(readFileSync(join(userDir, 'flows.json'), 'utf8')).toBe(readFileSync(SHIPPED, 'utf8'));
    expect(readdirSync(userDir)).toEqual(['flows.json']);

    // An empty file, `[]`, or anything else the technician has: kept as it is.
    for (const body of ['', '[]', '[{"id":"x","type":"tab"}]']) {
      writeFileSync(join(userDir, 'flows.json'), body);
      expect(installDefaultFlows(userDir, 'flows.json', SHIPPED)).toBe('kept');
      expect(readFileSync(join(userDir, 'flows.json'), 'utf8')).toBe(body);
    }
    // A flow file in a subfolder of userDir; no default configured: nothing written.
    expect(installDefaultFlows(userDir, 'site/village.json', SHIPPED)).toBe('copied');
    expect(existsSync(join(userDir, 'site', 'village.json'))).toBe(true);
    mkdirSync(join(dir, 'other'));
    expect(installDefaultFlows(join(dir, 'other'), 'flows.json', null)).toBe('none');
    expect(readdirSync(join(dir, 'other'))).toEqual([]);
  });
});
