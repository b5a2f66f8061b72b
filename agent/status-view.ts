/**
 * What `village-gateway status` shows a technician on site, as the running agent writes it to
 * `dataDir/status.json` every few seconds (with devices.json, see DeviceSnapshot). The CLI is
 * another process: this file is how it sees the agent, and its age says whether the agent runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Priority } from '../core/contracts/event.js';
import type { ExcludedNodesSummary } from './nodered/excluded-nodes.js';
import type { AgentObservation } from './observation.js';
import type { SmsBudget } from './alarms/sms-queue.js';

export const STATUS_FILE = 'status.json';
export const DEVICES_FILE = 'devices.json';

/** The folders a view may be in: the RAM one while the agent runs (runtimeDir), and the SD card's. */
export interface ViewDirs {
  dataDir: string;
  runtimeDir?: string | undefined;
}

/**
 * Where to read a view: the RAM copy while there is one (the agent runs, or stopped since the
 * last boot), else the SD card's (written every 10 minutes and at stop; after a reboot /run is empty).
 */
export function viewPath(dirs: ViewDirs, name: string): string {
  if (dirs.runtimeDir !== undefined) {
    const inRam = join(dirs.runtimeDir, name);
    if (existsSync(inRam)) return inRam;
  }
  return join(dirs.dataDir, name);
}

export interface StatusView {
  v: 1;
  writtenAt: string;
  pid: number;
  gatewayId: string;
  version: string;
  /** null while healthy; otherwise why the systemd watchdog ping is withheld. */
  heartbeat: string | null;
  /** Written as the agent began to stop: once its pid is gone it stopped, however new the file. */
  stopping: boolean;
  link: {
    state: string;
    up: boolean;
    lastError: string | null;
    downForSec: number | null;
    /** The last PUBACK from the county's broker (kept across restarts: the file remembers it). */
    lastCountyContact: string | null;
  };
  backlog: Record<Priority, number> & { total: number; bytes: number; oldestAgeSec: number | null };
  alarms: { active: { deviceId: string; rule: string; raisedAt: string; message: string }[]; acknowledged: number };
  smsPending: number;
  /** This hour's SMS budget (absent in older files, null before the alarms started). */
  smsBudget?: SmsBudget | null;
  /** Alarms the disk could not keep since start: how many, the last seqs, the last one's time (absent in older files). */
  lostAlarms?: { total: number; lastSeqs: number[]; lastAt: string | null };
  /** downReason: absent in files from before it was written. */
  devices: { id: string; online: boolean; lastSeenMs: number | null; errors: number; downReason?: string | null }[];
  storageLost: string | null;
  /** Flow nodes Node-RED left out at its last start (core nodes that are off); absent in older files. */
  flowNodesOff?: ExcludedNodesSummary | null;
}

/** Reads a status file; null when there is none or it cannot be read (never throws). */
export function readStatusFile(file: string): StatusView | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as StatusView;
    return v && v.v === 1 ? v : null;
  } catch {
    return null;
  }
}

export interface StatusSources {
  observe: AgentObservation;
  gatewayId: string;
  version: string;
  now: () => number;
  heartbeat: () => string | null;
  stopping: () => boolean;
  /** The last county contact a previous run recorded (from the status file it left). */
  previousContact: string | null;
}

export function statusView(s: StatusSources): StatusView {
  const now = s.now();
  const link = s.observe.link();
  const ob = s.observe.backlog();
  const alarms = s.observe.alarms();
  const contact =
    link.lastPubackAgeMs === null ? s.previousContact : new Date(now - link.lastPubackAgeMs).toISOString();
  return {
    v: 1,
    writtenAt: new Date(now).toISOString(),
    pid: process.pid,
    gatewayId: s.gatewayId,
    version: s.version,
    heartbeat: s.heartbeat(),
    stopping: s.stopping(),
    link: {
      state: link.state,
      up: link.up,
      lastError: link.lastError,
      downForSec: link.downForMs === null ? null : Math.round(link.downForMs / 1000),
      lastCountyContact: contact,
    },
    backlog: {
      critical: ob.backlog.critical.count,
      high: ob.backlog.high.count,
      normal: ob.backlog.normal.count,
      low: ob.backlog.low.count,
      total: ob.total.count,
      bytes: ob.total.bytes,
      oldestAgeSec: ob.oldestAgeMs === null ? null : Math.round(ob.oldestAgeMs / 1000),
    },
    alarms: {
      active: alarms.alerts
        .filter((a) => !a.ackedAt)
        .map((a) => ({ deviceId: a.deviceId, rule: a.ruleId, raisedAt: a.raisedAt, message: a.message })),
      acknowledged: alarms.alerts.filter((a) => a.ackedAt).length,
    },
    smsPending: alarms.smsPending.length,
    smsBudget: alarms.smsBudget,
    lostAlarms: lostView(s.observe),
    devices: s.observe.devices().map((d) => ({
      id: d.deviceIds[0] ?? d.driver,
      online: d.online,
      lastSeenMs: d.lastSeenMs,
      errors: d.errors,
      downReason: d.online ? null : (d.downReason ?? null),
    })),
    storageLost: s.observe.storage().lost,
    flowNodesOff: s.observe.nodeRed()?.excludedNodes ?? null,
  };
}

function lostView(observe: AgentObservation): StatusView['lostAlarms'] {
  const lost = observe.lostAlarms();
  return { total: lost.total, lastSeqs: lost.last.map((l) => l.seq), lastAt: lost.last.at(-1)?.ts ?? null };
}
