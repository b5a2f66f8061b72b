/**
 * What a pushed flow file must be before it replaces the one on the gateway: an array of nodes
 * with string `id` and `type`, every type one the installed Node-RED (or our own nodes) registers
 * and not a core node that is off here (core/contracts/core-nodes.ts), no `credentials` on any
 * node (they would travel through the county's broker and sit in the flow file in the clear:
 * Node-RED keeps them encrypted in `<flows>_cred.json`, which a push never touches), and within
 * MAX_FLOWS_BYTES. Node-RED itself checks none of this at deploy: an unknown type makes it start
 * no flow at all ("Waiting for missing types").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { excludedTypes } from '../../core/contracts/core-nodes.js';
import { GatewayError } from '../../core/kernel/errors.js';

/**
 * The largest flow file a push carries or flows.get sends (as compact JSON): a command and its
 * reply are at most 64 KiB on the wire (agent/uplink/commands.ts), with room for the envelope.
 */
export const MAX_FLOWS_BYTES = 48 * 1024;

/** How many problems a refusal lists (the rest are counted). */
const LISTED = 10;

/** Types that are not nodes but the editor's own structure. */
const STRUCTURE = ['tab', 'subflow', 'group'];

const node = z.looseObject({ id: z.string().min(1).max(64), type: z.string().min(1).max(128) });
export const flowsSchema = z.array(node).max(5000);
export type FlowNode = z.infer<typeof node>;

const REGISTER = /registerType\(\s*['"]([^'"]+)['"]/g;

/** Every type registered by the .js files under `dir` (Node-RED's core nodes, or a nodes folder). */
function typesIn(dir: string, into: Set<string>): void {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.js')) continue;
    const text = readFileSync(join(e.parentPath, e.name), 'utf8');
    for (const m of text.matchAll(REGISTER)) into.add(m[1]!);
  }
}

let coreTypes: Set<string> | null = null;

/** The node types this gateway's Node-RED knows: its core nodes (read from the installed package) and `nodesDir`'s. */
export function knownTypes(nodesDir: string): Set<string> {
  if (!coreTypes) {
    const red = createRequire(createRequire(import.meta.url).resolve('node-red'));
    const core = new Set(STRUCTURE);
    typesIn(join(dirname(red.resolve('@node-red/nodes/package.json')), 'core'), core);
    coreTypes = core;
  }
  const all = new Set(coreTypes);
  typesIn(nodesDir, all);
  return all;
}

/** The installed Node-RED's version (flows.get tells the county which editor made the file). */
export function nodeRedVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('node-red/package.json') as { version: string }).version;
}

const refuse = (code: 'FLOWS_INVALID' | 'FLOWS_NODE_UNKNOWN' | 'FLOWS_CREDENTIALS', what: string, list: string[]) => {
  const more = list.length > LISTED ? ` and ${list.length - LISTED} more` : '';
  return new GatewayError(code, `${what}: ${list.slice(0, LISTED).join('; ')}${more}; the flows on the gateway stay`);
};

/** The flows as they will be written, or a refusal naming every problem (by index and id). */
export function checkFlows(raw: unknown, o: { known: Set<string>; allowNodes: readonly string[] }): FlowNode[] {
  const size = Buffer.byteLength(JSON.stringify(raw) ?? '');
  if (size > MAX_FLOWS_BYTES)
    throw new GatewayError('FLOWS_TOO_LARGE', `the pushed flows are ${size} bytes as JSON, over ${MAX_FLOWS_BYTES}`);
  const parsed = flowsSchema.safeParse(raw);
  if (!parsed.success)
    throw refuse(
      'FLOWS_INVALID',
      'flows must be an array of nodes with a string id and type',
      parsed.error.issues.map((i) => `flows${i.path.map((p) => `[${String(p)}]`).join('')}: ${i.message}`),
    );
  const flows = parsed.data;
  const at = (n: FlowNode, i: number) => `flows[${i}] (${n.id})`;
  const withCreds = flows.flatMap((n, i) => ('credentials' in n ? [at(n, i)] : []));
  if (withCreds.length > 0)
    throw refuse(
      'FLOWS_CREDENTIALS',
      'nodes carry credentials (set them in the editor on site; they never travel in a push)',
      withCreds,
    );
  const ids = new Set<string>();
  const dup = flows.flatMap((n, i) => (ids.has(n.id) ? [`${at(n, i)}: the id is used twice`] : (ids.add(n.id), [])));
  if (dup.length > 0) throw refuse('FLOWS_INVALID', 'node ids must be unique', dup);
  const subflows = new Set(flows.filter((n) => n.type === 'subflow').map((n) => `subflow:${n.id}`));
  const off = excludedTypes(o.allowNodes);
  const bad = flows.flatMap((n, i) => {
    if (off.has(n.type)) return [`${at(n, i)}: ${n.type} is off on this gateway (nodeRed.allowNodes)`];
    if (o.known.has(n.type) || subflows.has(n.type)) return [];
    return [`${at(n, i)}: ${n.type} is not a node type of this gateway's Node-RED`];
  });
  if (bad.length > 0) throw refuse('FLOWS_NODE_UNKNOWN', 'node types this gateway cannot run', bad);
  return flows;
}
