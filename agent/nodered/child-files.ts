/** Where the Node-RED child's files are, from the sources (tests) or compiled (dist/). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { moduleDir } from '../../core/kernel/package-root.js';

/** The shipped default flows: flows/flows.json from the sources (agent/nodered) or compiled (dist/agent/nodered). */
export function shippedDefaultFlows(): string | null {
  const here = moduleDir('agent/nodered');
  const candidates = [resolve(here, '../../flows/flows.json'), resolve(here, '../../../flows/flows.json')];
  return candidates.find((p) => existsSync(p)) ?? null;
}

export function defaultChildPath(): string {
  const here = moduleDir('agent/nodered');
  // Compiled: dist/agent/nodered -> dist/flows/runtime. From the sources (tests): the build's copy.
  const candidates = [
    resolve(here, '../../flows/runtime/child.js'),
    resolve(here, '../../dist/flows/runtime/child.js'),
  ];
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/** Our own nodes (flows/nodes, package node-red-contrib-village) from the sources or compiled: the types a flow may use besides the core ones. */
export function shippedNodesDir(): string {
  const here = moduleDir('agent/nodered');
  const candidates = [resolve(here, '../../flows/nodes'), resolve(here, '../../../flows/nodes')];
  return candidates.find((d) => existsSync(resolve(d, 'package.json'))) ?? candidates[1]!;
}
