/**
 * The alarm class: the events that own the disk reserve's last bytes (disk-reserve.ts). Once
 * the reserve is let go, only these commit until it is written again; one that still cannot
 * be stored is reported lost (lost-alarms.ts) and sent by SMS.
 *
 * Decided by the event's type and source, never by its priority alone: a Node-RED flow may
 * ask for priority `critical` (its alerts carry rule `flow`), and a flow's alert, a device
 * going on- or offline, or telemetry must not take the room kept for a resident's press.
 *
 * - `alarm.pressed`: a resident's panic button (wired or radio);
 * - `alert.raised` and `alert.acknowledged` of the gateway's own rules (not rule `flow`);
 * - the gateway's own critical events (`gateway.*` at priority critical: the disk full, the
 *   storage lost or recovered, events lost), and `gateway.started` (once a boot: it tells
 *   the county's checker where the boot's seqs begin, so a restart on a full card can still be
 *   judged, its losses included). Flows cannot emit `gateway.*` events.
 */
export interface Classified {
  type: string;
  priority: string;
  data?: Record<string, unknown>;
}

/** The rule name of alerts a Node-RED flow raised (local-alarms.ts raiseFlowAlert). */
export const FLOW_RULE = 'flow';

export function isAlarmClass(e: Classified): boolean {
  if (e.type === 'alarm.pressed') return true;
  if (e.type === 'alert.raised' || e.type === 'alert.acknowledged') return e.data?.rule !== FLOW_RULE;
  return e.type === 'gateway.started' || (e.type.startsWith('gateway.') && e.priority === 'critical');
}
