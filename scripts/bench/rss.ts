/**
 * Memory while draining: the real agent (a child process running the CLI) drains a 1M-event
 * backlog to Mosquitto; its peak RSS is compared with the same agent draining 1k events,
 * measured in the same run. Reads are paged, so the backlog's size must not show in RSS.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Outbox } from '../../agent/outbox/outbox.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { prefill } from './drain.js';
import { benchDir, outboxConfig } from './fixtures.js';
import { result, type BenchResult } from './result.js';

const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));

const rssMb = (pid: number): number | null => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null; // exited
  }
};

/**
 * Events left in the agent's outbox, read by a second reader (WAL allows it); null when the
 * read raced the agent dropping a drained segment table ("no such table": seen once in about 20
 * runs of this probe, where it ended the whole benchmark run), so the next sample asks again.
 */
function backlogLeft(dir: string): number | null {
  try {
    const probe = new Outbox({ dir, config: outboxConfig() });
    const left = probe.size;
    probe.close();
    return left;
  } catch (err) {
    if (/no such table/.test((err as Error).message)) return null;
    throw err;
  }
}

/** Peak RSS of the agent from start until its outbox is empty (or maxMs), and how long the drain took. */
async function peakRss(
  url: string,
  backlog: number,
  maxMs: number,
): Promise<{ peakMb: number; drainedMs: number | null }> {
  const dir = benchDir('rss');
  await prefill(dir, backlog);
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    stringify({
      version: 1,
      gateway: { id: 'bench-rss' },
      dataDir: dir,
      log: { level: 'error' },
      health: { intervalSec: 3600 },
      outbox: { maxBytes: '4GiB' },
      mqtt: {
        url,
        protocolVersion: 5,
        clientId: `bench-rss-${backlog}`,
        batch: { maxEvents: 100 },
        replay: { messagesPerSec: 0 },
      },
    }),
  );
  // The executable itself, as a service would start it (its shebang carries the heap limits).
  const child = spawn(CLI, ['run', '--config', config], { stdio: 'ignore' });
  const t0 = performance.now();
  let peak = 0;
  let drainedMs: number | null = null;
  while (performance.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 100));
    peak = Math.max(peak, rssMb(child.pid!) ?? 0);
    if (drainedMs === null && performance.now() - t0 > 1000) {
      const left = backlogLeft(dir);
      if (left === 0) drainedMs = performance.now() - t0;
    }
    if (drainedMs !== null) break;
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return { peakMb: peak, drainedMs };
}

export async function rssBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('the rss benchmark needs Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  try {
    const idle = await peakRss(broker.url, 1000, 15_000);
    const big = await peakRss(broker.url, 1_000_000, 120_000);
    return [
      result('rss.idle', idle.peakMb, 'MB', undefined, {
        goal: 'value <= 60',
        note: 'agent peak RSS draining a 1k backlog',
      }),
      result(
        'rss.backlog',
        big.peakMb,
        'MB',
        { name: 'rss.idle', value: idle.peakMb },
        {
          goal: 'value <= 70, increase <= 15 MB',
          note: `peak RSS draining a 1M backlog (+${(big.peakMb - idle.peakMb).toFixed(1)} MB); drained in ${big.drainedMs === null ? '>120' : (big.drainedMs / 1000).toFixed(1)} s`,
        },
      ),
    ];
  } finally {
    await broker.dispose();
  }
}
