/**
 * The child's report of flow nodes it left out at start (core nodes that reach the OS or raw
 * sockets, not loaded unless `nodeRed.allowNodes` names them: flows/runtime/excluded-nodes.ts).
 * The agent raises `nodered.nodes_excluded` and keeps a summary for `status`: a technician who
 * upgraded sees which flows lost a node without opening the editor.
 */
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import type { FromChild } from '../../core/contracts/nodered-ipc.js';
import { failure } from '../../core/kernel/errors.js';

/** What `status` shows; null when every node of the flows runs. */
export interface ExcludedNodesSummary {
  total: number;
  types: string[];
  /** The tabs (or subflows) that hold them. */
  flows: string[];
}

/**
 * Handles one `nodes_excluded` message (sent at each start, with total 0 when nothing was left
 * out): logs and emits the event when there is something to say, and returns the new summary.
 */
export function noteExcludedNodes(
  m: Extract<FromChild, { t: 'nodes_excluded' }>,
  gatewayId: string,
  emit: (e: EventInput) => void,
  log: Logger,
): ExcludedNodesSummary | null {
  if (m.total === 0) return null;
  const unique = (xs: (string | null)[]) => [...new Set(xs.filter((x): x is string => x !== null))].sort();
  const summary = {
    total: m.total,
    types: unique(m.nodes.map((n) => n.type)),
    flows: unique(m.nodes.map((n) => n.flow)),
  };
  log.warn(
    failure('NODES_EXCLUDED', null, { ...summary, nodes: m.nodes.map((n) => n.id) }),
    'flows use core nodes that are off on this gateway (nodeRed.allowNodes): those nodes do not run',
  );
  emit({
    deviceId: gatewayId,
    type: 'nodered.nodes_excluded',
    priority: 'high',
    data: { total: m.total, types: summary.types, nodes: m.nodes },
  });
  return summary;
}
