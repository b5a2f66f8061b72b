/**
 * `village-gateway devices`: the configured devices joined with the running agent's last
 * snapshot (devices.json). For a technician's phone by default (40 columns, two lines a device,
 * and why one is down); `--wide` one line a device; `--json` for machines. When the agent is
 * not running, what the snapshot says is history, and the report says so instead of "online".
 */
import { readFileSync } from 'node:fs';
import type { BusDescription, DriverDescription } from '../core/contracts/driver.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { NodeRedView } from './device-snapshot.js';
import { readAgentState, fit, span, type StatusReport } from './status-report.js';
import { DEVICES_FILE, viewPath } from './status-view.js';

interface Snapshot {
  writtenAt: string;
  pid: number;
  devices: DriverDescription[];
  buses: BusDescription[];
  nodeRed?: NodeRedView;
}

export interface DeviceRow {
  id: string;
  driver: string;
  transport: string;
  /** null: not known (no snapshot, or the agent is not running to read it). */
  online: boolean | null;
  lastSeenMs: number | null;
  errors: number | null;
  downReason: string | null;
}

export interface DevicesReport {
  agent: StatusReport['agent'];
  /** When the snapshot was written, if there is one. */
  snapshotAt: string | null;
  devices: DeviceRow[];
  buses: BusDescription[];
  nodeRed: NodeRedView | null;
}

export function devicesData(config: GatewayConfig, now = Date.now()): DevicesReport {
  let snap: Snapshot | null = null;
  try {
    snap = JSON.parse(readFileSync(viewPath(config, DEVICES_FILE), 'utf8')) as Snapshot;
  } catch {
    // no snapshot: the agent has not run with this data folder (the report says so)
  }
  const agent = readAgentState(config, now);
  const live = agent.state === 'running';
  const devices = config.devices.map((d): DeviceRow => {
    const seen = snap?.devices.find((x) => x.deviceIds[0] === d.id);
    const transport =
      seen?.transport ??
      (d.driver === 'modbus'
        ? `modbus bus ${d.bus} unit ${d.unitId}`
        : d.driver === 'synthetic'
          ? 'synthetic'
          : d.driver === 'camera'
            ? `camera ${d.host}`
            : `${d.driver} ${d.path}`);
    const online = seen && live ? seen.online : null;
    return {
      id: d.id,
      driver: d.driver,
      transport,
      online,
      lastSeenMs: seen?.lastSeenMs ?? null,
      errors: seen ? seen.errors : null,
      downReason: online === false ? (seen?.downReason ?? null) : null,
    };
  });
  return {
    agent,
    snapshotAt: snap?.writtenAt ?? null,
    devices,
    buses: snap?.buses ?? [],
    nodeRed: snap?.nodeRed ?? null,
  };
}

const ago = (ms: number | null, now: number) =>
  ms === null ? 'never' : `${span(Math.max(0, Math.round((now - ms) / 1000)))} ago`;
const state = (r: DeviceRow) => (r.online === null ? '?' : r.online ? 'ok' : 'DOWN');

function header(r: DevicesReport, now: number): string[] {
  const { agent } = r;
  if (agent.state === 'running') return [];
  if (agent.state === 'never ran') return ['agent NEVER RAN with this data', ''];
  const when = r.snapshotAt ? [`as of ${ago(Date.parse(r.snapshotAt), now)}`] : [];
  return [`agent ${agent.state.toUpperCase()}:`, 'no device is being read', ...when, ''];
}

/** 40 columns: the device and its state, then how it is reached and why it is down. */
export function formatDevices(r: DevicesReport, now = Date.now()): string {
  const lines = header(r, now).map(fit);
  const idWidth = Math.min(20, Math.max(0, ...r.devices.map((d) => d.id.length)));
  for (const d of r.devices) {
    const errors = d.errors ? ` ${d.errors} err` : '';
    lines.push(
      fit(`${d.id.slice(0, idWidth).padEnd(idWidth)} ${state(d).padEnd(4)} ${ago(d.lastSeenMs, now)}${errors}`),
    );
    lines.push(fit(`  ${d.transport}`));
    if (d.downReason) lines.push(fit(`  ${d.downReason}`));
  }
  for (const b of r.buses) {
    lines.push(fit(`bus ${b.id} ${b.state}, ${b.requests} req`));
    lines.push(fit(`  ${b.timeouts} timeouts ${b.errors} err ${b.reconnects} reconn`));
    if (b.lastError) lines.push(fit(`  ${b.lastError}`));
  }
  if (r.nodeRed) lines.push(...nodeRedLines(r.nodeRed).map(fit));
  if (r.snapshotAt === null) lines.push('', fit('no state yet: the agent has not run'), fit('with this data folder'));
  return lines.join('\n');
}

function nodeRedLines(nr: NodeRedView): string[] {
  const flags = `${nr.safeMode ? ', SAFE MODE' : ''}${nr.crashLoop ? ', crash loop' : ''}`;
  return [`node-red ${nr.state}${flags}`, `  ${nr.restarts} restarts, ${nr.dropped} dropped`];
}

/** One line a device, for a wide terminal. */
export function formatDevicesWide(r: DevicesReport, now = Date.now()): string {
  const rows = [['device', 'driver', 'transport', 'online', 'last seen', 'errors', 'why down']];
  for (const d of r.devices)
    rows.push([
      d.id,
      d.driver,
      d.transport,
      d.online === null ? '?' : d.online ? 'yes' : 'NO',
      d.lastSeenMs === null && d.errors === null ? '?' : ago(d.lastSeenMs, now),
      d.errors === null ? '?' : String(d.errors),
      d.downReason ?? '',
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = [
    ...header(r, now),
    ...rows.map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
  ];
  if (r.snapshotAt) {
    lines.push('', `as reported by the agent ${ago(Date.parse(r.snapshotAt), now)}`);
    for (const b of r.buses)
      lines.push(
        `bus ${b.id}: ${b.transport}, ${b.state}, ${b.requests} requests, ${b.timeouts} timeouts, ${b.errors} errors, ${b.reconnects} reconnects${b.lastError ? `, last error: ${b.lastError}` : ''}`,
      );
    const nr = r.nodeRed;
    if (nr)
      lines.push(
        `node-red: ${nr.state}${nr.url ? ` at ${nr.url}` : ''}, ${nr.restarts} restarts, ${nr.dropped} events dropped${nr.safeMode ? ', SAFE MODE (flows stopped)' : ''}${nr.crashLoop ? ', crash loop' : ''}`,
      );
  } else lines.push('', 'no state yet: the agent has not run with this data folder');
  return lines.join('\n');
}
