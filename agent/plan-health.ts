/**
 * A representative `gateway.health` payload for `plan`: the shape agent/health.ts sends, with
 * values of the size a running village's have (a small backlog, a link up, a few devices, MB of
 * RSS and GB of disk, an uptime of days), varied a little per sample. Padding would do for JSON
 * bytes but flatters compression: health in the compact batches (mqtt.wire.health: batch)
 * compresses as well as its real numbers allow, not as well as a run of `x`.
 */
import type { EventData } from '../core/contracts/events/catalogue.js';

export function healthSample(r: () => number): EventData<'gateway.health'> {
  const n = (base: number, spread: number) => Math.round(base + r() * spread);
  const zero = { count: 0, bytes: 0 };
  const normal = n(0, 25);
  const oldestMs = normal > 0 ? n(1000, 60_000) : null;
  const puback = n(200, 59_000);
  const uptimeMs = n(86_400_000, 30 * 86_400_000);
  return {
    backlog: { critical: zero, high: zero, normal: { count: normal, bytes: normal * n(380, 40) }, low: zero },
    backlogTotal: { count: normal, bytes: normal * 400 },
    oldestAgeSec: oldestMs === null ? null : Math.round(oldestMs / 1000),
    oldestAgeMs: oldestMs,
    shed: { critical: 0, high: 0, normal: 0, low: 0 },
    uplink: {
      state: 'up',
      reconnects: n(0, 20),
      attempts: n(0, 30),
      lastError: null,
      downForSec: null,
      downForMs: null,
      lastPubackAgeSec: Math.round(puback / 1000),
      lastPubackAgeMs: puback,
      inflight: 0,
      inflightBytes: 0,
      linkRateBytesPerSec: n(2000, 20_000),
      linkMinRttMs: n(150, 600),
    },
    devices: { total: 4, online: 4, offline: [], offlineMore: 0 },
    rssBytes: n(58_000_000, 8_000_000),
    diskFreeBytes: n(7_000_000_000, 500_000_000),
    storage: { failures: { commit: 0, delete: 0, sweep: 0 }, eventsNotStored: 0, lastError: null },
    payloadProblems: 0,
    uptimeSec: Math.round(uptimeMs / 1000),
    uptimeMs,
  };
}
