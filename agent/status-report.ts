/**
 * `village-gateway status`: for a technician on site with a phone-sized terminal (every line at
 * most 40 columns). The agent is another process, so this reads what it can reach: the status
 * file the agent rewrites every few seconds (status-view.ts) and, when the agent is not running,
 * the outbox itself (read-only) for the backlog. An old file says the agent is not running.
 */
import { join } from 'node:path';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { PRIORITIES, type Priority } from '../core/contracts/event.js';
import { errorMessage, foreignCode } from '../core/kernel/errors.js';
import { inspectOutbox } from './outbox/inspect.js';
import { readStatusFile, STATUS_FILE, type StatusView } from './status-view.js';
import { seqRanges } from './lost-alarms.js';

export const WIDTH = 40;
/** The agent rewrites the file every 5 s: three missed writes mean it is not running (or hangs). */
export const STALE_AFTER_MS = 15_000;

export type AgentState = 'running' | 'stopping' | 'not responding' | 'not running' | 'never ran';

export interface StatusReport {
  agent: { state: AgentState; pid: number | null; updatedAgoSec: number | null };
  backlog: { source: 'agent' | 'outbox' | 'none'; counts: Record<Priority, number> | null; problem: string | null };
  view: StatusView | null;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return foreignCode(err) === 'EPERM'; // there, but another user's (the service user's)
  }
};

/** Whether the agent runs, from its last status file: what `status` and `devices` both say first. */
export function agentOf(view: StatusView | null, now: number): StatusReport['agent'] {
  const ageMs = view ? Math.max(0, now - Date.parse(view.writtenAt)) : null;
  // The pid first: a stopped or killed agent is not running at once, however new its last file.
  // (After a reboot the pid may belong to another process: then it shows as not responding.)
  const state: AgentState =
    !view || ageMs === null
      ? 'never ran'
      : !alive(view.pid)
        ? 'not running'
        : view.stopping
          ? 'stopping'
          : ageMs <= STALE_AFTER_MS
            ? 'running'
            : 'not responding';
  return { state, pid: view?.pid ?? null, updatedAgoSec: ageMs === null ? null : Math.round(ageMs / 1000) };
}

export const readAgentState = (dataDir: string, now: number) =>
  agentOf(readStatusFile(join(dataDir, STATUS_FILE)), now);

export function statusReport(config: GatewayConfig, now = Date.now()): StatusReport {
  const view = readStatusFile(join(config.dataDir, STATUS_FILE));
  const agent = agentOf(view, now);
  const state = agent.state;
  let backlog: StatusReport['backlog'];
  if (view && state === 'running') backlog = { source: 'agent', counts: view.backlog, problem: null };
  else {
    try {
      const b = inspectOutbox(config.dataDir).backlog;
      const counts = Object.fromEntries(PRIORITIES.map((p) => [p, b[p].count])) as Record<Priority, number>;
      backlog = { source: 'outbox', counts, problem: null };
    } catch (err) {
      backlog = { source: 'none', counts: null, problem: errorMessage(err) };
    }
  }
  return { agent, backlog, view };
}

/** "12 s", "5 min", "3 h", "2 d". */
export function span(sec: number): string {
  if (sec < 120) return `${sec} s`;
  if (sec < 7200) return `${Math.round(sec / 60)} min`;
  if (sec < 172_800) return `${Math.round(sec / 3600)} h`;
  return `${Math.round(sec / 86_400)} d`;
}

const sinceIso = (iso: string | null, now: number) =>
  iso === null ? 'never' : `${span(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)))} ago`;

/** Seqs as "120-121,125" (the newest lost alarms, for the county's checker to match). */
const ranges = (seqs: number[]) =>
  seqRanges(seqs)
    .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
    .join(',');

/** One label column (9 wide) and the value; cut to the width with "~" rather than wrapped. */
const row = (label: string, value: string) => fit(`${label.padEnd(9)}${value}`);
const fit = (line: string) => (line.length <= WIDTH ? line : `${line.slice(0, WIDTH - 1)}~`);

export function formatStatus(r: StatusReport, now = Date.now()): string {
  const v = r.view;
  const lines: string[] = [];
  lines.push(fit(v ? `${v.gatewayId} v${v.version}` : 'village-gateway'));
  const pid = r.agent.pid === null ? '' : `, pid ${r.agent.pid}`;
  const agent = {
    running: 'running',
    stopping: 'STOPPING',
    'not responding': 'NOT RESPONDING',
    'not running': 'NOT RUNNING',
  };
  if (r.agent.state === 'never ran') lines.push(row('agent', 'NEVER RAN with this data'));
  else lines.push(row('agent', `${agent[r.agent.state]}${pid}`));
  if (r.agent.updatedAgoSec !== null) lines.push(row('updated', `${span(r.agent.updatedAgoSec)} ago`));
  if (r.agent.state !== 'running' && v) lines.push(fit('(what follows is from that update)'));
  if (v?.heartbeat && !v.stopping) lines.push(row('health', `BAD: ${v.heartbeat}`));
  if (v?.storageLost) lines.push(row('storage', `LOST: ${v.storageLost}`));
  if (v) {
    const down = v.link.downForSec === null ? '' : ` for ${span(v.link.downForSec)}`;
    lines.push(row('link', v.link.up ? 'up' : `DOWN${down}`));
    if (!v.link.up && v.link.lastError) lines.push(fit(`  ${v.link.lastError}`));
    lines.push(row('county', `heard ${sinceIso(v.link.lastCountyContact, now)}`));
  }
  const c = r.backlog.counts;
  if (c) {
    const total = PRIORITIES.reduce((a, p) => a + c[p], 0);
    const from = r.backlog.source === 'outbox' ? ' (outbox)' : '';
    lines.push(row('backlog', `${total} waiting${from}`));
    if (total > 0) lines.push(fit(`  crit ${c.critical} high ${c.high} norm ${c.normal} low ${c.low}`));
    if (v && r.backlog.source === 'agent' && v.backlog.oldestAgeSec !== null && total > 0)
      lines.push(row('oldest', `${span(v.backlog.oldestAgeSec)} old`));
  } else lines.push(row('backlog', 'unknown'), fit(`  ${r.backlog.problem ?? ''}`));
  if (v) {
    const active = v.alarms.active;
    lines.push(row('alarms', active.length === 0 ? 'none active' : `${active.length} ACTIVE`));
    for (const a of active) lines.push(fit(`  ${a.deviceId} ${sinceIso(a.raisedAt, now)}`), fit(`    ${a.message}`));
    if (v.smsPending > 0) lines.push(row('sms', `${v.smsPending} waiting`));
    const b = v.smsBudget;
    if (b)
      lines.push(
        row('sms/hour', `alarms ${b.alarmsUsed} sent, ${b.alarmsLeft} left`),
        fit(`  flows ${b.flowsUsed} of ${b.flowShare}, ${b.keptForAlarms} kept`),
      );
    // Alarms the full disk could not keep (sent by SMS, reported to the county): the technician must see them.
    const lost = v.lostAlarms;
    if (lost && lost.total > 0)
      lines.push(
        row('lost', `${lost.total} ALARMS NOT STORED`),
        fit(`  last ${sinceIso(lost.lastAt, now)}, seq ${ranges(lost.lastSeqs)}`),
      );
    // After an upgrade: flows that lost a node the gateway no longer loads (docs/technician.md, Node-RED: "Upgrading").
    const off = v.flowNodesOff;
    if (off)
      lines.push(row('flows', `${off.total} NODES OFF: ${off.types.join(',')}`), fit(`  in ${off.flows.join(', ')}`));
    const online = v.devices.filter((d) => d.online).length;
    lines.push(row('devices', `${online} of ${v.devices.length} online`));
    const idWidth = Math.min(20, Math.max(0, ...v.devices.map((d) => d.id.length)));
    for (const d of v.devices) {
      const seen = d.lastSeenMs === null ? 'never' : `${span(Math.max(0, Math.round((now - d.lastSeenMs) / 1000)))}`;
      const err = d.errors > 0 ? ` ${d.errors}err` : '';
      lines.push(fit(`  ${d.id.slice(0, idWidth).padEnd(idWidth)} ${d.online ? 'ok' : 'DOWN'} ${seen}${err}`));
      if (!d.online && d.downReason) lines.push(fit(`    ${d.downReason}`));
    }
  }
  return lines.join('\n');
}
