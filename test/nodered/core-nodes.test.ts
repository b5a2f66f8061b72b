/**
 * The core nodes the flows do without (core/contracts/core-nodes.ts): the table against the
 * installed Node-RED (a file renamed by an upgrade would no longer be excluded, silently), the
 * config's switch, and what the child puts in place of an excluded node in the flows it runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXCLUDABLE_CORE_NODES, excludedTypes, nodesExcludes } from '../../core/contracts/core-nodes.js';
import { isFromChild } from '../../core/contracts/nodered-ipc.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { withoutExcludedNodes } from '../../flows/runtime/excluded-nodes.js';

const CORE = join(dirname(createRequire(import.meta.url).resolve('@node-red/nodes/package.json')), 'core');
const coreFiles = readdirSync(CORE, { recursive: true, encoding: 'utf8' }).filter((f) => /^[^/]+\/[^/]+\.js$/.test(f));
const registered = (file: string) =>
  [...readFileSync(join(CORE, file), 'utf8').matchAll(/registerType\(\s*["']([^"']+)["']/g)].map((m) => m[1]);

describe('the excluded core nodes', () => {
  it('name files of the installed Node-RED that register exactly the listed types', () => {
    for (const { file, types } of Object.values(EXCLUDABLE_CORE_NODES)) {
      const found = coreFiles.filter((f) => f.endsWith(`/${file}`));
      expect(found, file).toHaveLength(1);
      expect(registered(found[0]!).sort(), file).toEqual([...types].sort());
    }
  });

  it('leave no other core node that spawns processes, opens raw sockets or reads files by path', () => {
    // A new core node doing either would need a decision here (exclude it, or say why not).
    const listed = new Set<string>(Object.values(EXCLUDABLE_CORE_NODES).map((g) => g.file));
    const reviewed = new Set([
      'common/21-debug.js', // reads its own view.html
      // tls-config reads the certificate files it names: kept, MQTT and HTTPS over TLS need it; the
      // bytes are a TLS option, never a message (and the flows' own user reads none of the agent's files).
      'network/05-tls.js',
    ]);
    const reaching = coreFiles.filter(
      (f) =>
        !listed.has(f.split('/')[1]!) &&
        !reviewed.has(f) &&
        /require\(["'](child_process|net|dgram)["']\)|\bfs\.\w/.test(readFileSync(join(CORE, f), 'utf8')),
    );
    expect(reaching).toEqual([]);
  });

  it('are switched back on one by one by nodeRed.allowNodes', () => {
    expect(nodesExcludes(['file'])).not.toContain('10-file.js');
    expect(nodesExcludes(['file'])).toContain('90-exec.js');
    expect([...excludedTypes(['tcp', 'udp'])].sort()).toEqual(['exec', 'file', 'file in', 'watch']);
    const nr = { users: [{ username: 't', password: 'long-enough-pass' }], credentialSecret: 's' };
    const parse = (nodeRed: object) =>
      gatewayConfigSchema.safeParse({
        version: 1,
        gateway: { id: 'g' },
        dataDir: '/d',
        mqtt: { url: 'mqtt://h' },
        nodeRed,
      });
    expect(parse(nr).data?.nodeRed?.allowNodes).toEqual([]);
    expect(parse({ ...nr, allowNodes: ['file'] }).data?.nodeRed?.allowNodes).toEqual(['file']);
    expect(parse({ ...nr, allowNodes: ['function'] }).success).toBe(false);
  });
});

describe('a flow file with excluded nodes', () => {
  const flows = [
    { id: 't1', type: 'tab', label: 'pumps' },
    { id: 'sf', type: 'subflow', name: 'helper' },
    { id: 'a', z: 't1', type: 'inject', x: 10, y: 20, wires: [['b']] },
    { id: 'b', z: 't1', g: 'grp', type: 'exec', name: 'reboot', command: 'reboot', x: 30, y: 40, wires: [[], [], []] },
    { id: 'c', z: 'sf', type: 'file in', filename: '/etc/passwd', x: 1, y: 2, wires: [[]] },
  ];

  it('runs with a comment in each excluded node’s place, the node kept in its description, and says which', () => {
    const r = withoutExcludedNodes(flows, excludedTypes());
    expect(r.found).toEqual([
      { id: 'b', type: 'exec', name: 'reboot', flow: 'pumps' },
      { id: 'c', type: 'file in', name: null, flow: 'helper' },
    ]);
    const out = r.flows as Record<string, unknown>[];
    expect(out[2]).toBe(flows[2]); // the rest untouched
    expect(out[3]).toMatchObject({
      id: 'b',
      type: 'comment',
      z: 't1',
      g: 'grp',
      x: 30,
      y: 40,
      name: 'excluded: exec "reboot"',
    });
    const kept = /```json\n([\s\S]*)\n```/.exec(out[3]!['info'] as string)![1]!;
    expect(JSON.parse(kept)).toEqual(flows[3]);
    expect(withoutExcludedNodes(flows, excludedTypes(['exec', 'file'])).found).toEqual([]);
  });

  it('is reported to the agent in a message the agent checks', () => {
    const ok = { t: 'nodes_excluded', total: 1, nodes: [{ id: 'b', type: 'exec', name: null, flow: 'pumps' }] };
    expect(isFromChild(ok)).toBe(true);
    expect(isFromChild({ ...ok, nodes: [{ id: 'b', type: 'exec' }] })).toBe(false);
    expect(isFromChild({ ...ok, nodes: Array.from({ length: 51 }, () => ok.nodes[0]) })).toBe(false);
    expect(isFromChild({ ...ok, total: -1 })).toBe(false);
  });
});
