/** Health is just another event: it travels through the outbox like everything else. */
import { statfsSync } from 'node:fs';
import type { EventInput } from '../core/contracts/event.js';
import type { EventData } from '../core/contracts/events/catalogue.js';
import type { DriverDescription } from '../core/contracts/driver.js';
import type { OutboxStats } from './outbox/outbox.js';
import type { UplinkStats } from './uplink/uplink.js';
import type { NodeRedReport } from './nodered/supervisor.js';

export interface HealthSources {
  outbox: () => OutboxStats;
  uplink: () => UplinkStats;
  drivers: () => DriverDescription[];
  storage: () => EventData<'gateway.health'>['storage'];
  payloadProblems: () => number;
  nodeRed: (() => NodeRedReport) | null;
  dataDir: string;
  startedMonoMs: number;
  monoMs: () => number;
  now: () => number;
}

/** At most this many offline devices are named in a health event; the rest are counted. */
export const OFFLINE_LISTED = 20;

/** Which devices are down and why, bounded so a village of failed sensors cannot swell every health event. */
export function offlineDevices(drivers: DriverDescription[]): {
  offline: { id: string; reason: string | null }[];
  offlineMore: number;
} {
  const down = drivers
    .filter((d) => !d.online)
    .flatMap((d) => d.deviceIds.map((id) => ({ id, reason: d.downReason ?? null })));
  return { offline: down.slice(0, OFFLINE_LISTED), offlineMore: Math.max(0, down.length - OFFLINE_LISTED) };
}

const sec = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));

export function healthEvent(gatewayId: string, s: HealthSources): EventInput {
  const ob = s.outbox();
  const up = s.uplink();
  let diskFreeBytes: number | null = null;
  try {
    const fs = statfsSync(s.dataDir);
    diskFreeBytes = fs.bavail * fs.bsize;
  } catch {
    // the data folder is gone or the filesystem unreadable: report null, never throw here
  }
  const drivers = s.drivers();
  const nr = s.nodeRed?.() ?? null;
  return {
    deviceId: gatewayId,
    type: 'gateway.health',
    priority: 'low',
    data: {
      backlog: ob.backlog,
      backlogTotal: ob.total,
      oldestAgeSec: sec(ob.oldestAgeMs),
      oldestAgeMs: ob.oldestAgeMs === null ? null : Math.round(ob.oldestAgeMs),
      shed: ob.shed,
      uplink: {
        state: up.state,
        reconnects: up.reconnects,
        attempts: up.attempts,
        lastError: up.lastError,
        downForSec: sec(up.downForMs),
        downForMs: up.downForMs === null ? null : Math.round(up.downForMs),
        lastPubackAgeSec: sec(up.lastPubackAgeMs),
        lastPubackAgeMs: up.lastPubackAgeMs === null ? null : Math.round(up.lastPubackAgeMs),
        inflight: up.inflight,
        inflightBytes: up.link.inflightBytes,
        linkRateBytesPerSec: up.link.rateBytesPerSec,
        linkMinRttMs: up.link.minRttMs,
      },
      devices: { total: drivers.length, online: drivers.filter((d) => d.online).length, ...offlineDevices(drivers) },
      rssBytes: process.memoryUsage.rss(),
      diskFreeBytes,
      storage: s.storage(),
      payloadProblems: s.payloadProblems(),
      uptimeSec: Math.round((s.monoMs() - s.startedMonoMs) / 1000),
      uptimeMs: Math.round(s.monoMs() - s.startedMonoMs),
      ...(nr
        ? {
            nodeRed: {
              state: nr.state,
              restarts: nr.restarts,
              dropped: nr.dropped,
              safeMode: nr.safeMode,
              rssBytes: nr.rssBytes,
            },
          }
        : {}),
    },
  };
}
