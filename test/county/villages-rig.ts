/**
 * Three real agents of one group (the built CLI) on a real broker, a county that watches them
 * (statuses, events, and which gateways were sent which command), and the villages tool as the
 * county runs it: for test/county/villages*.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceivedEvent } from '../../scripts/county-subscriber.js';
import { main } from '../../scripts/county/villages.js';
import { AgentChild } from '../helpers/agent-child.js';
import { startCounty } from '../helpers/delivery.js';
import { waitUntil } from '../helpers/wait.js';
import { baseConfig } from '../push/push-rig.js';

export interface VillageDeps {
  url: string;
  tempDir: () => string;
  cleanup: (fn: () => unknown) => void;
}

export async function village(d: VillageDeps, tag: string, over: Record<string, unknown> = {}) {
  const county = await startCounty(d.url, d.cleanup);
  const statuses: Record<string, unknown>[] = [];
  const events: ReceivedEvent[] = [];
  /** `<gatewayId> <command>` for every command the county's broker carried. */
  const commanded: string[] = [];
  county.on('status', (_t, b) => statuses.push(b as Record<string, unknown>));
  county.on('event', (e) => events.push(e));
  county.client!.on('message', (topic) => {
    const m = /^village\/([^/]+)\/cmd\/([^/]+)$/.exec(topic);
    if (m) commanded.push(`${m[1]} ${m[2]}`);
  });
  await county.client!.subscribeAsync('village/+/cmd/+', { qos: 1 });
  const ids = [1, 2, 3].map((i) => `gw-${tag}-${i}`);
  const agents = new Map<string, AgentChild>();
  for (const id of ids) {
    const dir = d.tempDir();
    const agent = new AgentChild(AgentChild.writeConfig(dir, { ...baseConfig(id, dir, d.url), ...over })).start();
    d.cleanup(() => agent.kill('SIGTERM'));
    agents.set(id, agent);
  }
  const online = (id: string) => statuses.some((s) => s.gatewayId === id && s.state === 'online');
  await waitUntil(() => ids.every(online), 20_000, 'three gateways online');
  const groups = join(d.tempDir(), 'groups.yaml');
  writeFileSync(groups, `groups:\n  ${tag}: [${ids.join(', ')}]\n`);
  /** The tool as the county runs it; its output lines and exit code. */
  const run = async (...args: string[]) => {
    const lines: string[] = [];
    const group = args.includes('--gateways') ? [] : ['--groups', groups, '--group', tag];
    const code = await main([...args, '--url', d.url, ...group], (s) => lines.push(s));
    return { code, out: lines.join('\n') };
  };
  return { ids, agents, county, statuses, events, commanded, run };
}
