/**
 * Flows that use a core node the child does not load (core/contracts/core-nodes.ts). Node-RED
 * treats an unregistered type as "missing" and then starts NO flow at all ("Waiting for missing
 * types to be registered"; checked in @node-red/runtime 4.1 flows/index.js start(), disabled
 * nodes included): after an upgrade, one `exec` node would stop every flow of the gateway. So
 * the child reads the flow file through a wrapper of Node-RED's own file storage that puts a
 * comment node in each excluded node's place (same tab, position and group; its original JSON
 * in the comment's description, so the editor shows where it was and what it did) and reports
 * them. The file on disk stays as it was until the technician deploys; a copy is kept beside it
 * (`<flow file>.excluded-nodes.bak`, written once, never overwritten).
 */
import { copyFileSync, existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ExcludedNodeReport } from './protocol.js';

type FlowNode = Record<string, unknown> & { id?: unknown; type?: unknown; z?: unknown; name?: unknown };

/** Node-RED's storage module interface, as far as the wrapper needs it. */
export interface FlowStorage {
  getFlows(): Promise<unknown>;
  [k: string]: unknown;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, 200) : null);

/** The flows with each node of an excluded type replaced by a comment, and those nodes. */
export function withoutExcludedNodes(
  flows: unknown,
  excluded: ReadonlySet<string>,
): { flows: unknown; found: ExcludedNodeReport[] } {
  if (!Array.isArray(flows)) return { flows, found: [] };
  const nodes = flows as FlowNode[];
  const containers = new Map<unknown, string | null>();
  for (const n of nodes)
    if (n.type === 'tab') containers.set(n.id, text(n['label']));
    else if (n.type === 'subflow') containers.set(n.id, text(n.name));
  const found: ExcludedNodeReport[] = [];
  const out = nodes.map((n) => {
    if (typeof n.type !== 'string' || !excluded.has(n.type)) return n;
    const name = text(n.name);
    found.push({ id: String(n.id).slice(0, 64), type: n.type, name, flow: containers.get(n.z) ?? null });
    const placeholder: FlowNode = {
      id: n.id,
      type: 'comment',
      name: `excluded: ${n.type}${name ? ` "${name}"` : ''}`,
      info:
        `The core node \`${n.type}\` is not loaded on this gateway (docs/technician.md, Node-RED: "Core nodes that reach the system, off"; nodeRed.allowNodes). ` +
        `The node as it was:\n\n\`\`\`json\n${JSON.stringify(n, null, 2)}\n\`\`\`\n`,
      wires: [],
    };
    for (const k of ['z', 'g', 'x', 'y']) if (k in n) placeholder[k] = n[k];
    return placeholder;
  });
  return { flows: out, found };
}

/**
 * Node-RED's storage module with getFlows going through withoutExcludedNodes; `onFound` hears
 * of the nodes left out each time the flows are read (at start).
 */
export function excludingStorage(
  base: FlowStorage,
  excluded: ReadonlySet<string>,
  flowFile: { userDir: string; flowFile: string },
  onFound: (found: ExcludedNodeReport[]) => void,
): FlowStorage {
  const path = isAbsolute(flowFile.flowFile) ? flowFile.flowFile : join(flowFile.userDir, flowFile.flowFile);
  return {
    ...base,
    getFlows: async () => {
      const r = withoutExcludedNodes(await base.getFlows(), excluded);
      if (r.found.length > 0) {
        const backup = `${path}.excluded-nodes.bak`;
        // The first deploy from the editor writes the flows without those nodes: the file as the
        // technician left it is kept (once: a later start must not overwrite it with a rewritten one).
        if (!existsSync(backup) && existsSync(path)) copyFileSync(path, backup);
      }
      onFound(r.found);
      return r.flows;
    },
  };
}
