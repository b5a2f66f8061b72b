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
      oldestAgeSec: ob.oldestAgeMs === null ? null : Math.round(ob.oldestAgeMs / 1000),
      shed: ob.shed,
      uplink: {
        state: up.state,
        reconnects: up.reconnects,
        attempts: up.attempts,
        lastError: up.lastError,
        downForSec: up.downForMs === null ? null : Math.round(up.downForMs / 1000),
        lastPubackAgeSec: up.lastPubackAgeMs === null ? null : Math.round(up.lastPubackAgeMs / 1000),
        inflight: up.inflight,
        inflightBytes: up.link.inflightBytes,
        linkRateBytesPerSec: up.link.rateBytesPerSec,
        linkMinRttMs: up.link.minRttMs,
      },
      devices: { total: drivers.length, online: drivers.filter((d) => d.online).length },
      rssBytes: process.memoryUsage.rss(),
      diskFreeBytes,
      storage: s.storage(),
      payloadProblems: s.payloadProblems(),
      uptimeSec: Math.round((s.monoMs() - s.startedMonoMs) / 1000),
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
