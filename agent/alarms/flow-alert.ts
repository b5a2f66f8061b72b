/**
 * What a flow's alert tells the county beyond a rule's: which flow and node raised it (names as
 * the technician wrote them, ids to find them in the editor) and the event that led to it.
 */
import type { AlertRequestArgs, FlowOrigin } from '../../core/contracts/nodered-ipc.js';

/** Told in the `alert.raised` event only (the alarm state keeps no cause: a flow may name any event). */
export interface FlowTold {
  origin?: FlowOrigin;
  causes?: NonNullable<AlertRequestArgs['cause']>[];
}

/** What the event tells beyond a rule's alert: the origin and the cause, when the flow gave them. */
export const flowTold = (origin: FlowOrigin | undefined, cause: AlertRequestArgs['cause']): FlowTold => ({
  ...(origin ? { origin } : {}),
  ...(cause ? { causes: [cause] } : {}),
});

/** The alert's `reason`: the node and its flow by name where they have one, else by id. */
export function flowReason(origin: FlowOrigin | undefined): string {
  if (!origin) return 'a Node-RED flow raised it';
  const node = origin.nodeName ? `"${origin.nodeName}" (${origin.nodeId})` : origin.nodeId;
  const flow = origin.flowName ? `"${origin.flowName}" (${origin.flowId})` : origin.flowId;
  return `Node-RED node ${node} in flow ${flow} raised it`;
}
