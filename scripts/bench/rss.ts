/**
 * Memory while draining (and with cameras, rss.cameras): the real agent (a child process running the CLI) drains a 1M-event
 * backlog to Mosquitto; its peak RSS is compared with the same agent draining 1k events,
 * measured in the same run. Reads are paged, so the backlog's size must not show in RSS.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { readStatusFile, STATUS_FILE } from '../../agent/status-view.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import type { DeviceInput } from './camera-fleet.js';
import { prefill } from './drain.js';
import { underCameraLoad } from './rss-cameras.js';
import { benchDir } from './fixtures.js';
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
 * Events left to send, as the running agent itself counts them: the backlog of its status view
 * (`status.json`, rewritten every 5 s; null until the first). Not the outbox on disk: deletes
 * after PUBACK reach the disk up to 30 s late (agent/uplink/acked-deletes.ts), so a 1M backlog
 * the agent had sent in 8-9 s still showed 76 events there until ~38 s (2026-12-07), and the
 * drain times in this row's notes before then were those 38 s.
 */
function backlogLeft(dir: string): number | null {
  return readStatusFile(join(dir, STATUS_FILE))?.backlog.total ?? null;
}

export interface RssRun {
  /** More devices in the agent's config (cameras). */
  devices?: DeviceInput[];
  /** Keep sampling this long after the outbox is empty (a load that goes on, such as cameras streaming). */
  holdMs?: number;
}

/**
 * Peak RSS of the agent from start until its outbox is empty (and `holdMs` more, or maxMs in
 * all), and how long the drain took.
 */
export async function peakRss(
  url: string,
  backlog: number,
  maxMs: number,
  run: RssRun = {},
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
      devices: run.devices ?? [],
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
      if (backlogLeft(dir) === 0) drainedMs = performance.now() - t0;
    }
    if (drainedMs !== null && performance.now() - t0 >= drainedMs + (run.holdMs ?? 0)) break;
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return { peakMb: peak, drainedMs };
}

const CAMERAS_HOLD_MS = 30_000;

/**
 * rss.cameras: the agent with 4 cameras streaming (rss-cameras.ts) for CAMERAS_HOLD_MS after its
 * 1k backlog drained, against rss.idle; the note gives the same hold without cameras, so that
 * what time alone adds (heap growth, JIT) is not taken for the cameras'.
 */
async function camerasRow(url: string, idleMb: number): Promise<BenchResult> {
  const held = await peakRss(url, 1000, 120_000, { holdMs: CAMERAS_HOLD_MS });
  const { measured, load } = await underCameraLoad((devices) =>
    peakRss(url, 1000, 120_000, { devices, holdMs: CAMERAS_HOLD_MS }),
  );
  const delta = measured.peakMb - idleMb;
  return result(
    'rss.cameras',
    measured.peakMb,
    'MB',
    { name: 'rss.idle', value: idleMb },
    {
      goal: 'increase <= 10 MB',
      note: `peak RSS, 4 cameras streaming ${CAMERAS_HOLD_MS / 1000} s after a 1k backlog drained (+${delta.toFixed(1)} MB over rss.idle; the same hold without cameras ${held.peakMb.toFixed(1)} MB); ${load.parts} event parts, ${load.intrusions} alarm pictures, ${load.connections} stream connections`,
    },
  );
}

const idleRow = (idleMb: number) =>
  result('rss.idle', idleMb, 'MB', undefined, { goal: 'value <= 60', note: 'agent peak RSS draining a 1k backlog' });

/** Runs `fn` against a Mosquitto of its own, started and disposed of here. */
export async function withBroker(fn: (url: string) => Promise<BenchResult[]>): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('the rss benchmark needs Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  try {
    return await fn(broker.url);
  } finally {
    await broker.dispose();
  }
}

/** `--only rss-cameras`: rss.idle and rss.cameras alone (the 1M backlog takes minutes). */
export const rssCamerasBenchmarks = (): Promise<BenchResult[]> =>
  withBroker(async (url) => {
    const idle = await peakRss(url, 1000, 15_000);
    return [idleRow(idle.peakMb), await camerasRow(url, idle.peakMb)];
  });

export const rssBenchmarks = (): Promise<BenchResult[]> =>
  withBroker(async (url) => {
    const idle = await peakRss(url, 1000, 15_000);
    const big = await peakRss(url, 1_000_000, 120_000);
    const cameras = await camerasRow(url, idle.peakMb);
    return [
      idleRow(idle.peakMb),
      result(
        'rss.backlog',
        big.peakMb,
        'MB',
        { name: 'rss.idle', value: idle.peakMb },
        {
          goal: 'value <= 70, increase <= 15 MB',
          note: `peak RSS draining a 1M backlog (+${(big.peakMb - idle.peakMb).toFixed(1)} MB); sent by ${big.drainedMs === null ? '>120' : (big.drainedMs / 1000).toFixed(1)} s (the agent's status, rewritten every 5 s)`,
        },
      ),
      cameras,
    ];
  });
