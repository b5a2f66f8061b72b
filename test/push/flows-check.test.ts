/**
 * What a pushed flow file must be (agent/push/flows-check.ts), against the installed Node-RED's
 * own node files and our nodes folder; and the flow file read and written without following a
 * link the flows' user planted (agent/push/flows-file.ts).
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedNodesDir } from '../../agent/nodered/child-files.js';
import { checkFlows, knownTypes, MAX_FLOWS_BYTES, nodeRedVersion } from '../../agent/push/flows-check.js';
import { readFlowFile, writeFlowFile } from '../../agent/push/flows-file.js';
import type { GatewayError } from '../../core/kernel/errors.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const known = knownTypes(shippedNodesDir());
const check = (flows: unknown, allowNodes: string[] = []) => checkFlows(flows, { known, allowNodes });
const refusal = (flows: unknown, allowNodes: string[] = []) => {
  try {
    check(flows, allowNodes);
  } catch (e) {
    return { code: (e as GatewayError).code, message: (e as Error).message };
  }
  throw new Error('not refused');
};
const tab = { id: 't1', type: 'tab', label: 'a tab' };

describe('pushed flows are checked before anything is written', () => {
  it("knows the installed Node-RED's core nodes and ours, and its version", () => {
    for (const t of ['inject', 'function', 'debug', 'mqtt-broker', 'exec', 'village in', 'village out'])
      expect(known.has(t), t).toBe(true);
    expect(nodeRedVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('takes a flow of known nodes, a subflow and its instances, and an allowed core node', () => {
    const flows = [
      tab,
      { id: 's1', type: 'subflow', name: 'sub', in: [], out: [] },
      { id: 'n1', z: 't1', type: 'inject', wires: [['n2']] },
      { id: 'n2', z: 't1', type: 'subflow:s1', wires: [] },
      { id: 'n3', z: 't1', type: 'village alert', wires: [] },
    ];
    expect(check(flows)).toHaveLength(5);
    expect(check([tab, { id: 'x', z: 't1', type: 'exec' }], ['exec'])).toHaveLength(2);
  });

  it('refuses a shape that is not nodes, naming each problem by index', () => {
    expect(refusal({ nodes: [] }).code).toBe('FLOWS_INVALID');
    const r = refusal([tab, { id: 'n1' }, 'text', { id: 7, type: 'inject' }]);
    expect(r.code).toBe('FLOWS_INVALID');
    expect(r.message).toContain('flows[1][type]');
    expect(r.message).toContain('flows[2]');
    expect(r.message).toContain('flows[3][id]');
    expect(refusal([tab, { ...tab }]).message).toContain('flows[1] (t1): the id is used twice');
  });

  it('refuses unknown and excluded node types, naming each', () => {
    const r = refusal([
      tab,
      { id: 'a', type: 'no-such-node' },
      { id: 'b', type: 'exec' },
      { id: 'c', type: 'subflow:zz' },
    ]);
    expect(r.code).toBe('FLOWS_NODE_UNKNOWN');
    expect(r.message).toContain("flows[1] (a): no-such-node is not a node type of this gateway's Node-RED");
    expect(r.message).toContain('flows[2] (b): exec is off on this gateway (nodeRed.allowNodes)');
    expect(r.message).toContain('flows[3] (c): subflow:zz is not a node type');
  });

  it('refuses credentials without echoing them, and a push over the size limit', () => {
    const r = refusal([tab, { id: 'b', type: 'mqtt-broker', credentials: { user: 'u', password: 'pw-9931' } }]);
    expect(r.code).toBe('FLOWS_CREDENTIALS');
    expect(r.message).toContain('flows[1] (b)');
    expect(r.message).not.toContain('pw-9931');
    const big = [tab, { id: 'c', type: 'comment', info: 'x'.repeat(MAX_FLOWS_BYTES) }];
    expect(refusal(big)).toMatchObject({ code: 'FLOWS_TOO_LARGE' });
  });
});

describe('the flow file on disk', () => {
  it('is not read or written through a link the flows user planted', () => {
    const dir = tempDir();
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'do not send');
    const userDir = join(dir, 'node-red');
    mkdirSync(userDir);
    const flowFile = join(userDir, 'flows.json');
    symlinkSync(secret, flowFile);
    expect(() => readFlowFile(flowFile, 1000)).toThrow(expect.objectContaining({ code: 'FLOWS_UNREADABLE' }));
    writeFlowFile(flowFile, '[]');
    expect(readFileSync(secret, 'utf8')).toBe('do not send'); // the link was replaced, not written through
    expect(readFlowFile(flowFile, 1000)!.toString()).toBe('[]');
    expect(readFlowFile(join(userDir, 'none.json'), 1000)).toBeNull();
    expect(() => readFlowFile(flowFile, 1)).toThrow(expect.objectContaining({ code: 'FLOWS_TOO_LARGE' }));
  });
});
