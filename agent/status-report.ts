/**
 * `village-gateway status`: for a technician on site with a phone-sized terminal (every line at
 * most 40 columns). The agent is another process, so this reads what it can reach: the status
 * file the agent rewrites every few seconds (status-view.ts) and, when the agent is not running,
 * the outbox itself (read-only) for the backlog. An old file says the agent is not running.
 */
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { PRIORITIES, type Priority } from '../core/contracts/event.js';
import { errorMessage, foreignCode } from '../core/kernel/errors.js';
import { inspectOutbox } from './outbox/inspect.js';
import { readStatusFile, STATUS_FILE, viewPath, type StatusView, type ViewDirs } from './status-view.js';
import { seqRanges } from './lost-alarms.js';
import { anyPushStatus, type pushStatus } from './push/push-state.js';
import { fitToWidth, padToWidth } from './i18n/display-width.js';
import { en, type Texts } from './i18n/en.js';

export const WIDTH = 40;
/** The agent rewrites the file every 5 s: three missed writes mean it is not running (or hangs). */
export const STALE_AFTER_MS = 15_000;

export type AgentState = 'running' | 'stopping' | 'not responding' | 'not running' | 'never ran';

export interface StatusReport {
  agent: { state: AgentState; pid: number | null; updatedAgoSec: number | null };
  backlog: { source: 'agent' | 'outbox' | 'none'; counts: Record<Priority, number> | null; problem: string | null };
  view: StatusView | null;
  /** A county config or flows push on probation, or rolled back and not yet reported (null: none). */
  push?: ReturnType<typeof pushStatus>;
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

export const readAgentState = (dirs: ViewDirs, now: number) =>
  agentOf(readStatusFile(viewPath(dirs, STATUS_FILE)), now);

export function statusReport(config: GatewayConfig, now = Date.now()): StatusReport {
  const view = readStatusFile(viewPath(config, STATUS_FILE));
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
  return { agent, backlog, view, push: anyPushStatus(config.dataDir, now) };
}

/** "12 s", "5 min", "3 h", "2 d" (in the language of `units`). */
export function span(sec: number, units: Texts['units'] = en.units): string {
  if (sec < 120) return units.s(sec);
  if (sec < 7200) return units.min(Math.round(sec / 60));
  if (sec < 172_800) return units.h(Math.round(sec / 3600));
  return units.d(Math.round(sec / 86_400));
}

/** Seqs as "120-121,125" (the newest lost alarms, for the county's checker to match). */
const ranges = (seqs: number[]) =>
  seqRanges(seqs)
    .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
    .join(',');

/** Every line cut to WIDTH columns with "~" rather than wrapped; Chinese characters count two. */
/** A line cut to the terminal's 40 columns by display width (a Chinese character is two). */
export const fit = (line: string) => fitToWidth(line, WIDTH);

/** The status in 40 columns, its words from the catalogue of a language (English unless given). */
export function formatStatus(r: StatusReport, now = Date.now(), t: Texts = en): string {
  const s = t.status;
  const L = s.label;
  const ago = (sec: number) => s.ago(span(Math.max(0, sec), t.units));
  const sinceIso = (iso: string | null) => (iso === null ? s.never : ago(Math.round((now - Date.parse(iso)) / 1000)));
  /** One label column (9 wide) and the value. */
  const row = (label: string, value: string) => fit(`${padToWidth(label, 9)}${value}`);
  const v = r.view;
  const lines: string[] = [];
  lines.push(fit(v ? `${v.gatewayId} v${v.version}` : s.noGateway));
  const pid = r.agent.pid === null ? '' : s.agent.pid(r.agent.pid);
  const agent = {
    running: s.agent.running,
    stopping: s.agent.stopping,
    'not responding': s.agent.notResponding,
    'not running': s.agent.notRunning,
  };
  if (r.agent.state === 'never ran') lines.push(row(L.agent, s.agent.neverRan));
  else lines.push(row(L.agent, `${agent[r.agent.state]}${pid}`));
  if (r.agent.updatedAgoSec !== null) lines.push(row(L.updated, ago(r.agent.updatedAgoSec)));
  if (r.agent.state !== 'running' && v) lines.push(fit(s.fromThatUpdate));
  if (v?.heartbeat && !v.stopping) lines.push(row(L.health, s.healthBad(v.heartbeat)));
  if (v?.storageLost) lines.push(row(L.storage, s.storageLost(v.storageLost)));
  if (v) {
    const down = v.link.downForSec === null ? s.linkDown : s.linkDownFor(span(v.link.downForSec, t.units));
    lines.push(row(L.link, v.link.up ? s.linkUp : down));
    if (!v.link.up && v.link.lastError) lines.push(fit(`  ${v.link.lastError}`));
    lines.push(row(L.county, s.heard(sinceIso(v.link.lastCountyContact))));
  }
  const c = r.backlog.counts;
  if (c) {
    const total = PRIORITIES.reduce((a, p) => a + c[p], 0);
    const waiting = s.waiting(total);
    lines.push(row(L.backlog, r.backlog.source === 'outbox' ? s.fromOutbox(waiting) : waiting));
    if (total > 0) lines.push(fit(`  ${s.byPriority(c)}`));
    if (v && r.backlog.source === 'agent' && v.backlog.oldestAgeSec !== null && total > 0)
      lines.push(row(L.oldest, s.old(span(v.backlog.oldestAgeSec, t.units))));
  } else lines.push(row(L.backlog, s.unknown), fit(`  ${r.backlog.problem ?? ''}`));
  const p = r.push;
  const pushed = p?.kind === 'flows' ? s.pushedFlows(p.hash) : p?.hash;
  if (p?.phase === 'probation')
    lines.push(
      row(L.push, s.pushProbation(pushed!)),
      fit(`  ${s.pushLeft(span(p.probationLeftSec, t.units), sinceIso(p.since))}`),
    );
  else if (p) lines.push(row(L.push, s.pushRolledBack(pushed!)), fit(`  ${s.pushSince(sinceIso(p.since))}`));
  if (v) {
    const active = v.alarms.active;
    lines.push(row(L.alarms, active.length === 0 ? s.noneActive : s.active(active.length)));
    for (const a of active) lines.push(fit(`  ${a.deviceId} ${sinceIso(a.raisedAt)}`), fit(`    ${a.message}`));
    if (v.smsPending > 0) lines.push(row(L.sms, s.smsWaiting(v.smsPending)));
    const b = v.smsBudget;
    if (b)
      lines.push(
        row(L.smsHour, s.alarmsSms(b.alarmsUsed, b.alarmsLeft)),
        fit(`  ${s.flowsSms(b.flowsUsed, b.flowShare, b.keptForAlarms)}`),
      );
    // Alarms the full disk could not keep (sent by SMS, reported to the county): the technician must see them.
    const lost = v.lostAlarms;
    if (lost && lost.total > 0)
      lines.push(row(L.lost, s.lost(lost.total)), fit(`  ${s.lostLast(sinceIso(lost.lastAt), ranges(lost.lastSeqs))}`));
    // After an upgrade: flows that lost a node the gateway no longer loads (docs/technician.md, Node-RED: "Upgrading").
    const off = v.flowNodesOff;
    if (off)
      lines.push(row(L.flows, s.nodesOff(off.total, off.types.join(','))), fit(`  ${s.inFlows(off.flows.join(', '))}`));
    const online = v.devices.filter((d) => d.online).length;
    lines.push(row(L.devices, s.online(online, v.devices.length)));
    const idWidth = Math.min(20, Math.max(0, ...v.devices.map((d) => d.id.length)));
    for (const d of v.devices) {
      const seen =
        d.lastSeenMs === null ? s.never : span(Math.max(0, Math.round((now - d.lastSeenMs) / 1000)), t.units);
      const err = d.errors > 0 ? ` ${s.errors(d.errors)}` : '';
      const state = d.online ? s.deviceOk : s.deviceDown;
      lines.push(fit(`  ${d.id.slice(0, idWidth).padEnd(idWidth)} ${state} ${seen}${err}`));
      if (!d.online && d.downReason) lines.push(fit(`    ${d.downReason}`));
    }
  }
  return lines.join('\n');
}
