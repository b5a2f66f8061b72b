/**
 * The Node-RED core nodes that reach the operating system or raw sockets, which the flows do
 * without unless a technician names them in `nodeRed.allowNodes` (issue 17). Shared by the
 * config schema (the names), the child's settings (`nodesExcludes` takes the files' names) and
 * the child's check of the flow file (the types a flow may contain).
 *
 * Why each one: `exec` runs any command as the flows' user (it read the agent's secrets from
 * /proc); `tcp` writes raw bytes to any host and port (a `tcp request` node wrote a Modbus TCP
 * coil, past `flowWritable`); `udp` the same over UDP; `file` reads and writes any file the
 * flows' user can; `watch` lists and follows any folder. Not excluded: `http request`, `mqtt`,
 * `websocket` speak one protocol each (a device bus does not answer them) and are what flows
 * use to talk to other systems; the device buses' addresses are closed to the flows' process
 * by systemd (`IPAddressDeny`, agent/flows-network.ts) whatever node tries.
 */
export const EXCLUDABLE_CORE_NODES = {
  exec: { file: '90-exec.js', types: ['exec'] },
  tcp: { file: '31-tcpin.js', types: ['tcp in', 'tcp out', 'tcp request'] },
  udp: { file: '32-udp.js', types: ['udp in', 'udp out'] },
  file: { file: '10-file.js', types: ['file', 'file in'] },
  watch: { file: '23-watch.js', types: ['watch'] },
} as const;

export type CoreNodeGroup = keyof typeof EXCLUDABLE_CORE_NODES;
export const CORE_NODE_GROUPS = ['exec', 'tcp', 'udp', 'file', 'watch'] as const satisfies readonly CoreNodeGroup[];

/** The groups not re-enabled by the config: what the child does without. */
export const excludedGroups = (allowed: readonly string[] = []): CoreNodeGroup[] =>
  CORE_NODE_GROUPS.filter((g) => !allowed.includes(g));

/** Node-RED's `nodesExcludes`: the core nodes' file names of the excluded groups. */
export const nodesExcludes = (allowed: readonly string[] = []): string[] =>
  excludedGroups(allowed).map((g) => EXCLUDABLE_CORE_NODES[g].file);

/** The node types a flow may not contain: the types of the excluded groups. */
export const excludedTypes = (allowed: readonly string[] = []): Set<string> =>
  new Set(excludedGroups(allowed).flatMap((g) => [...EXCLUDABLE_CORE_NODES[g].types]));
