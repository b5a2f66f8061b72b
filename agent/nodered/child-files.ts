/** Where the Node-RED child's files are: under the package root, from the sources (tests) or installed. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../core/kernel/package-root.js';

/** The shipped default flows (flows/flows.json), or null when the checkout or release has none. */
export function shippedDefaultFlows(): string | null {
  const file = join(PACKAGE_ROOT, 'flows/flows.json');
  return existsSync(file) ? file : null;
}

/** The child's entry as built (tests from the sources start the build's copy too). */
export function defaultChildPath(): string {
  return join(PACKAGE_ROOT, 'dist/flows/runtime/child.js');
}

/** Our own nodes (flows/nodes, package node-red-contrib-village): the types a flow may use besides the core ones. */
export function shippedNodesDir(): string {
  return join(PACKAGE_ROOT, 'flows/nodes');
}
