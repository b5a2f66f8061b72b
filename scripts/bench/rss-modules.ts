/**
 * `--only rss-modules`: where the idle agent's memory goes. A child process under the CLI's own
 * V8 flags (read from its launcher line, so the figures are the shipped agent's) imports the parts
 * the `run` path loads, in the agent's order (rss-modules-child.ts); each row is the RSS that part
 * adds over the ones before it, after a full GC (median of three children, the range in the note). Then the agent
 * itself runs (rss.idle, rss.ts): what it holds beyond its code is the last row.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cliNodeFlags } from './cli-flags.js';
import { PARTS } from './rss-modules-child.js';
import { peakRss, withBroker } from './rss.js';
import { result, type BenchResult } from './result.js';

const CHILD = fileURLToPath(new URL('./rss-modules-child.js', import.meta.url));
const RUNS = 3;

interface Sample {
  part: string;
  rssMb: number;
  heapMb: number;
}

async function childRun(): Promise<Sample[]> {
  const child = spawn(process.execPath, [...cliNodeFlags(), '--expose-gc', CHILD, 'measure'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (text += s));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`rss-modules child exited with ${code}`);
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Sample);
}

const span = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, range: `${s[0]!.toFixed(1)}-${s[s.length - 1]!.toFixed(1)}` };
};

export const rssModulesBenchmarks = (): Promise<BenchResult[]> =>
  withBroker(async (url) => {
    const runs: Sample[][] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await childRun());
    const names = runs[0]!.map((s) => s.part);
    const rows: BenchResult[] = [];
    const at = (run: Sample[], name: string) => run.find((s) => s.part === name)!;
    const base = span(runs.map((r) => at(r, 'node').rssMb));
    rows.push(
      result('rss.module.node', base.median, 'MB', undefined, { note: `node alone, the CLI's flags (${base.range})` }),
    );
    for (let i = 1; i < names.length; i++) {
      const part = PARTS.find((p) => p.name === names[i])!;
      const rss = span(runs.map((r) => r[i]!.rssMb - r[i - 1]!.rssMb));
      const heap = span(runs.map((r) => r[i]!.heapMb - r[i - 1]!.heapMb));
      rows.push(
        result(`rss.module.${part.name}`, rss.median, 'MB', undefined, {
          note: `${part.what}${part.runLoads ? '' : ' (not loaded by `run` otherwise)'}: RSS +${rss.range} MB, V8 heap +${heap.range} MB`,
        }),
      );
    }
    const lastRun = PARTS.filter((p) => p.runLoads).at(-1)!.name;
    const code = span(runs.map((r) => at(r, lastRun).rssMb));
    const idle = await peakRss(url, 1000, 15_000);
    rows.push(
      result('rss.module.running', idle.peakMb - code.median, 'MB', undefined, {
        note: `the running agent (rss.idle ${idle.peakMb.toFixed(1)} MB) over node with all the code \`run\` loads (${code.range} MB): SQLite connection, sockets, the heap at work`,
      }),
    );
    return rows;
  });
