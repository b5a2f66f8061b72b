/** A fleet run's report: its shape, the text the CLI prints, and whether it passed. */
import type { Verdict } from './delivery-checker.js';

export interface PhaseReport {
  events: number;
  seconds: number;
  /** Distinct events the county received a second. */
  eventsPerSec: number;
  /** The broker acknowledged (PUBACK) every event of the phase after this long. */
  ackedSeconds: number;
  messagesPerSec: number;
  bytesPerSec: number;
  broker: { cpuSec: number; cpuPercent: number } | null;
}

export interface FleetReport {
  gateways: number;
  connected: number;
  /** Links that were up and went away, all gateways together (the agent's own count). */
  reconnects: number;
  connectSeconds: number;
  consumers: number;
  share: string | null;
  produced: number;
  delivered: number;
  lost: number;
  duplicates: number;
  /** Gateways whose seqs are not exactly 1..produced. */
  gaps: { gateway: string; missing: number }[];
  perConsumer: number[];
  backlog: PhaseReport | null;
  live: (PhaseReport & { latencyMs: { p50: number; p95: number; max: number } }) | null;
  broker: { idleRssMb: number; rssMb: number; peakRssMb: number; cpuSec: number } | null;
  verdict: Pick<Verdict, 'ok' | 'problems' | 'distinct' | 'duplicates'> | null;
}

export function percentiles(values: number[]): { p50: number; p95: number; max: number } {
  if (values.length === 0) return { p50: NaN, p95: NaN, max: NaN };
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: v[v.length - 1]! };
}

export function formatReport(r: FleetReport): string {
  const n = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const phase = (name: string, p: PhaseReport) =>
    `${name.padEnd(9)} ${n(p.events)} events in ${n(p.seconds, 2)} s: ${n(p.eventsPerSec)} events/s at the county ` +
    `(all PUBACKed after ${n(p.ackedSeconds, 2)} s), ${n(p.messagesPerSec)} msgs/s, ${n(p.bytesPerSec / 1024)} KiB/s` +
    (p.broker ? `; broker ${n(p.broker.cpuSec, 2)} CPU s (${n(p.broker.cpuPercent)} % of a core)` : '');
  return [
    `gateways  ${r.connected}/${r.gateways} connected, all announced at the county after ${n(r.connectSeconds, 1)} s; ${r.reconnects} reconnects`,
    `county    ${r.consumers} consumer(s)${r.share ? ` in $share/${r.share}` : ''}, events each: ${r.perConsumer.join(', ')}`,
    ...(r.backlog ? [phase('backlog', r.backlog)] : []),
    ...(r.live
      ? [
          phase('live', r.live),
          `latency   capture -> county p50 ${n(r.live.latencyMs.p50)} ms, p95 ${n(r.live.latencyMs.p95)} ms, max ${n(r.live.latencyMs.max)} ms`,
        ]
      : []),
    ...(r.broker
      ? [
          `broker    RSS ${n(r.broker.rssMb, 1)} MB (idle ${n(r.broker.idleRssMb, 1)}, peak ${n(r.broker.peakRssMb, 1)}), ${n(r.broker.cpuSec, 2)} CPU s in all`,
        ]
      : []),
    `delivery  produced ${r.produced}, delivered ${r.delivered}, lost ${r.lost}, duplicates ${r.duplicates}, ` +
      `gateways with seq gaps ${r.gaps.length}${r.verdict ? `; checker ${r.verdict.ok ? 'ok' : r.verdict.problems.join('; ')}` : ''}`,
  ].join('\n');
}

export function fleetOk(r: FleetReport): boolean {
  return r.lost === 0 && r.gaps.length === 0 && (r.verdict?.ok ?? true);
}
