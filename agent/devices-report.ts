/** `village-gateway devices`: the configured devices joined with the running agent's last snapshot. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DriverDescription } from './contracts/driver.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { NodeRedView } from './device-snapshot.js';

interface Snapshot {
  writtenAt: string;
  pid: number;
  devices: DriverDescription[];
  buses: {
    id: string;
    transport: string;
    state: string;
    requests: number;
    timeouts: number;
    errors: number;
    reconnects: number;
    lastError: string | null;
  }[];
  nodeRed?: NodeRedView;
}

export function devicesReport(config: GatewayConfig, now = Date.now()): string {
  let snap: Snapshot | null = null;
  try {
    snap = JSON.parse(readFileSync(join(config.dataDir, 'devices.json'), 'utf8')) as Snapshot;
  } catch {
    // the agent has not run here yet
  }
  const ago = (ms: number | null) => (ms === null ? 'never' : `${Math.max(0, Math.round((now - ms) / 1000))} s ago`);
  const rows = [['device', 'driver', 'transport', 'online', 'last seen', 'errors']];
  for (const d of config.devices) {
    const live = snap?.devices.find((x) => x.deviceIds[0] === d.id);
    const transport =
      live?.transport ??
      (d.driver === 'modbus' ? `bus ${d.bus} unit ${d.unitId}` : d.driver === 'serial' ? d.path : 'none');
    rows.push([
      d.id,
      d.driver,
      transport,
      live ? (live.online ? 'yes' : 'NO') : '?',
      live ? ago(live.lastSeenMs) : '?',
      live ? String(live.errors) : '?',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  if (snap) {
    lines.push('', `as reported by the agent (pid ${snap.pid}) ${ago(Date.parse(snap.writtenAt))}`);
    for (const b of snap.buses)
      lines.push(
        `bus ${b.id}: ${b.transport}, ${b.state}, ${b.requests} requests, ${b.timeouts} timeouts, ${b.errors} errors, ${b.reconnects} reconnects${b.lastError ? `, last error: ${b.lastError}` : ''}`,
      );
    const nr = snap.nodeRed;
    if (nr)
      lines.push(
        `node-red: ${nr.state}${nr.url ? ` at ${nr.url}` : ''}, ${nr.restarts} restarts, ${nr.dropped} events dropped${nr.safeMode ? ', SAFE MODE (flows stopped)' : ''}${nr.crashLoop ? ', crash loop' : ''}`,
      );
  } else lines.push('', 'no state yet: the agent has not run with this data folder');
  return lines.join('\n');
}
