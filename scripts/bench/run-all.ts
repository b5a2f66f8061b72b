/**
 * `npm run bench [-- --json] [-- --only GROUP ...]` (the groups are GROUPS below). Every figure that has a baseline
 * was measured against it in the same run (ratio = value / baseline): the machines are
 * shared and noisy, so absolute numbers alone mean little. Never a pass/fail test.
 */
import { parseArgs } from 'node:util';
import type { BenchResult } from './result.js';

const GROUPS: Record<string, () => Promise<BenchResult[]>> = {
  ingest: async () => (await import('./ingest.js')).ingestBenchmarks(),
  drain: async () => (await import('./drain.js')).drainBenchmarks(),
  rss: async () => (await import('./rss.js')).rssBenchmarks(),
  alarm: async () => (await import('./alarm-latency.js')).alarmLatencyBenchmarks(),
  serial: async () => (await import('./serial-decode.js')).serialDecodeBenchmarks(),
  safety: async () => (await import('./safety-latency.js')).safetyLatencyBenchmarks(),
  nodered: async () => (await import('./nodered.js')).noderedBenchmarks(),
  weaklink: async () => (await import('./weaklink.js')).weaklinkBenchmarks(),
  fleet: async () => (await import('./fleet.js')).fleetBenchmarks(),
  bytes: async () => (await import('./bytes.js')).bytesBenchmarks(),
  'weaklink-drain': async () => (await import('./weaklink.js')).weaklinkDrainBenchmarks(),
  'weaklink-media': async () => (await import('./weaklink-media.js')).weaklinkMediaBenchmarks(),
  'rss-modules': async () => (await import('./rss-modules.js')).rssModulesBenchmarks(),
  'rss-cameras': async () => (await import('./rss.js')).rssCamerasBenchmarks(),
  camera: async () => (await import('./camera.js')).cameraBenchmarks(),
  disk: async () => (await import('./disk.js')).diskBenchmarks(),
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, only: { type: 'string', multiple: true } } });
  const names = values.only ?? Object.keys(GROUPS);
  const all: BenchResult[] = [];
  for (const name of names) {
    const group = GROUPS[name];
    if (!group) throw new Error(`unknown benchmark group "${name}" (have: ${Object.keys(GROUPS).join(', ')})`);
    if (!values.json) process.stderr.write(`running ${name} benchmarks...\n`);
    const results = await group();
    for (const r of results) {
      all.push(r);
      if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    }
  }
  if (!values.json) {
    const rows = all.map((r) => [
      r.name,
      `${r.value} ${r.unit}`,
      r.baseline ?? '',
      r.baselineValue === null ? '' : String(r.baselineValue),
      r.ratio === null ? '' : String(r.ratio),
      r.goal ?? '',
    ]);
    const head = ['name', 'value', 'baseline', 'baseline value', 'ratio', 'goal'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
  }
  process.exit(0);
}

void main();
