/**
 * disk.bytes_per_day: what the agent costs its SD card in a day, for the modest village that
 * `plan` and docs/technician.md describe (20 sensors at 1 reading a minute, ~50 door events a
 * day, health every 5 minutes, MQTT 5 to a county broker that is up). The real agent (the CLI, as
 * a service starts it) runs with its data folder on an ext4 file system in a loop-mounted image:
 * what the card sees is the loop device's written sectors (the agent's data, ext4's journal and
 * metadata), which neither tmpfs nor an overlay can show. Its runtimeDir (RAM as installed) is off
 * the image. The file system is synced at both ends
 * of the window so that writes the kernel was still holding count in the window they belong to;
 * the agent's own /proc/<pid>/io write_bytes goes in the note. Scaled from a few minutes to a day.
 * Needs root (mount); the window is VG_BENCH_DISK_SEC seconds (default 180).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { benchDir } from './fixtures.js';
import { result, type BenchResult } from './result.js';
import { withBroker } from './rss.js';

const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));
const WARMUP_MS = 20_000;
/**
 * SQLite's WAL grows to its first checkpoint (1,000 pages, ~4 MB) and is then written over in
 * place; a gateway running for months lives in the second phase. At village rates the growth
 * takes ~20 minutes; VG_BENCH_DISK_WARMUP=wal starts the window only once the log has reached
 * that size. Measured on 2026-12-06 the two phases differ little (1,268 MB a day in the first
 * minutes, 1,206 after the checkpoint), so by default the window starts after WARMUP_MS.
 */
const WAL_STEADY_BYTES = 4_000_000;
const WAL_WAIT_MAX_MS = 45 * 60_000;
const DAY_SEC = 86_400;
const GOAL_MB = 50;

/** Sectors and write requests the loop device has taken so far (/sys/block/<dev>/stat). */
function loopWrites(dev: string): { bytes: number; requests: number } {
  const f = readFileSync(`/sys/block/${dev}/stat`, 'utf8').trim().split(/\s+/).map(Number);
  return { requests: f[4]!, bytes: f[6]! * 512 };
}

function walBytes(dataDir: string): number {
  try {
    return statSync(join(dataDir, 'outbox.db-wal')).size;
  } catch {
    return 0;
  }
}

function processWriteBytes(pid: number): number {
  const m = /write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** An ext4 image of `mb` MB mounted at `mnt`; returns its loop device's name and how to let it go. */
function mountExt4(dir: string, mb: number): { mnt: string; dev: string; release: () => void } {
  const image = join(dir, 'card.img');
  const mnt = join(dir, 'card');
  mkdirSync(mnt);
  execFileSync('truncate', ['-s', `${mb}M`, image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  execFileSync('mount', ['-o', 'loop', image, mnt]);
  const dev = basename(execFileSync('losetup', ['-j', image], { encoding: 'utf8' }).split(':')[0]!);
  return { mnt, dev, release: () => execFileSync('umount', [mnt]) };
}

/**
 * The wire the example village runs (config/gateway.example.yaml): compact deflated batches that
 * linger up to a minute, so rows sit committed for a minute and their deletes come in batches.
 * VG_BENCH_DISK_WIRE=json measures the default wire instead (each reading sent, and deleted, alone).
 */
function wire(): { format: 'compact'; compression: 'deflate'; lingerMs: number } | { format: 'json' } {
  const name = process.env.VG_BENCH_DISK_WIRE ?? 'compact';
  if (name === 'json') return { format: 'json' };
  if (name === 'compact') return { format: 'compact', compression: 'deflate', lingerMs: 60_000 };
  throw new Error(`VG_BENCH_DISK_WIRE is json or compact, not "${name}"`);
}

/** The modest village's config: what plan's example prices, as one synthetic device. */
function villageConfig(url: string, dataDir: string, runtimeDir: string): string {
  const groupCommitMs = process.env.VG_BENCH_DISK_GROUP_MS; // to compare group windows; else the default
  return stringify({
    version: 1,
    gateway: { id: 'bench-disk' },
    dataDir,
    runtimeDir, // as installed: /run/village-gateway, RAM
    log: { level: 'warn' },
    health: { intervalSec: 300 },
    mqtt: { url, protocolVersion: 5, clientId: 'bench-disk', wire: wire() },
    ...(groupCommitMs === undefined ? {} : { outbox: { groupCommitMs: Number(groupCommitMs) } }),
    devices: [
      {
        id: 'village',
        driver: 'synthetic',
        rates: { telemetryPerSec: 20 / 60, doorPerSec: 50 / DAY_SEC, buttonPerSec: 0 },
      },
    ],
  });
}

async function measure(url: string, windowSec: number): Promise<BenchResult> {
  const dir = benchDir('disk');
  const card = mountExt4(dir, 512);
  const ram = mkdtempSync('/dev/shm/vg-bench-run-'); // tmpfs, as /run is
  try {
    const dataDir = join(card.mnt, 'data');
    mkdirSync(dataDir);
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, villageConfig(url, dataDir, ram));
    const child = spawn(CLI, ['run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.on('error', (err) => console.error('disk bench: agent', err));
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    const exited = new Promise((r) => child.once('exit', r));
    const alive = () => {
      if (child.exitCode !== null) throw new Error(`disk bench: the agent exited (${child.exitCode}): ${stderr}`);
    };
    try {
      const warmStart = performance.now();
      await new Promise((r) => setTimeout(r, WARMUP_MS));
      const steady = process.env.VG_BENCH_DISK_WARMUP === 'wal';
      while (steady && walBytes(dataDir) < WAL_STEADY_BYTES && performance.now() - warmStart < WAL_WAIT_MAX_MS) {
        alive();
        await new Promise((r) => setTimeout(r, 5000));
      }
      const warmSec = Math.round((performance.now() - warmStart) / 1000);
      const phase = steady ? `the WAL at its working size (${warmSec} s warm-up)` : `${warmSec} s after start`;
      alive();
      execFileSync('sync', ['-f', card.mnt]);
      const card0 = loopWrites(card.dev);
      const proc0 = processWriteBytes(child.pid!);
      await new Promise((r) => setTimeout(r, windowSec * 1000));
      alive();
      const proc1 = processWriteBytes(child.pid!);
      execFileSync('sync', ['-f', card.mnt]);
      const card1 = loopWrites(card.dev);
      const perDay = DAY_SEC / windowSec;
      const mbDay = ((card1.bytes - card0.bytes) * perDay) / 1e6;
      const procMbDay = ((proc1 - proc0) * perDay) / 1e6;
      const requestsDay = Math.round((card1.requests - card0.requests) * perDay);
      return result('disk.bytes_per_day', mbDay, 'MB', undefined, {
        goal: `value <= ${GOAL_MB}`,
        note: `modest village (20 sensors at 1/min, ~50 door events a day, health every 5 min; wire ${JSON.stringify(wire())}${process.env.VG_BENCH_DISK_GROUP_MS === undefined ? '' : `, groupCommitMs ${process.env.VG_BENCH_DISK_GROUP_MS}`}) on a loop-mounted ext4 image, ${windowSec} s from ${phase}, scaled to a day: ${requestsDay.toLocaleString('en')} write requests a day at the card; the agent's own write_bytes ${procMbDay.toFixed(1)} MB a day`,
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    card.release();
    rmSync(dir, { recursive: true, force: true });
    rmSync(ram, { recursive: true, force: true });
  }
}

export async function diskBenchmarks(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the disk benchmark mounts an ext4 image: run it as root');
  const windowSec = Number(process.env.VG_BENCH_DISK_SEC ?? 180);
  return withBroker(async (url) => [await measure(url, windowSec)]);
}
