/**
 * The floor of one commit at the card (docs/technician.md, _What a day costs the SD card_): the
 * outbox on ext4 (4 KiB blocks) in a loop-mounted image, one alarm-class event committed every
 * GAP ms, and what the loop device took per commit, synced at both ends. Not a row of run-all:
 * a measurement to repeat by hand, as root:
 *
 *   MOUNT_OPTS=commit=60 node dist/scripts/bench/disk-floor.js warm 60 3000
 *
 * Modes: `warm` (the log past its first checkpoint, written over in place, as a gateway runs
 * after its first hour), `growing` (a new log, as in the first ~40 minutes after a start),
 * `presized` (a new log written out to its working size with zeros beyond SQLite's frames: an
 * experiment, not something the agent does). Also prints ext4's journal transactions meanwhile.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { Outbox } from '../../agent/outbox/outbox.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { profileEventType } from '../../core/contracts/events/catalogue.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';

const WAL_WORKING_BYTES = 4_128_272; // 1,002 frames of a 4 KiB page: the log at wal_autocheckpoint 1000
const [mode = 'warm', n = '60', gap = '3000'] = process.argv.slice(2);
if (!['warm', 'growing', 'presized'].includes(mode))
  throw new Error(`mode is warm, growing or presized, not "${mode}"`);
const commits = Number(n);
const gapMs = Number(gap);

const dir = mkdtempSync('/tmp/vg-floor-');
const image = join(dir, 'card.img');
const mnt = join(dir, 'card');
mkdirSync(mnt);
execFileSync('truncate', ['-s', '256M', image]);
execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', image]);
execFileSync('mount', ['-o', ['loop', process.env.MOUNT_OPTS].filter(Boolean).join(','), image, mnt]);
const dev = basename(execFileSync('losetup', ['-j', image], { encoding: 'utf8' }).split(':')[0]!);
const card = () => {
  const f = readFileSync(`/sys/block/${dev}/stat`, 'utf8').trim().split(/\s+/).map(Number);
  return { requests: f[4]!, bytes: f[6]! * 512 };
};
const journal = () => readFileSync(`/proc/fs/jbd2/${dev}-8/info`, 'utf8').split('\n')[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

try {
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'gw' },
    dataDir: '/x',
    mqtt: { url: 'mqtt://h' },
  });
  const data = join(mnt, 'data');
  const ob = new Outbox({ dir: data, config: config.outbox });
  ob.on('storageFailure', (f) => console.error('disk-floor:', f.error.message));
  const wal = join(data, 'outbox.db-wal');
  let seq = 0;
  const event = (): GatewayEvent => ({
    id: `01J${String(++seq).padStart(23, '0')}`,
    seq,
    bootId: 'disk-floor',
    gatewayId: 'gw',
    deviceId: 'dev-1',
    type: profileEventType('sensor.reading'),
    priority: 'critical',
    ts: new Date().toISOString(),
    monoMs: performance.now(),
    clockSynced: true,
    data: { value: Math.random(), unit: 'C' },
  });
  if (mode === 'warm') {
    // Past the first checkpoint, delivered as it goes, so the log is written over in place.
    while (statSync(wal).size < 4_000_000 || seq < 1700) {
      await ob.put(event());
      ob.delete(ob.readPage(null, 100));
    }
  } else {
    await ob.put(event());
    if (mode === 'presized') {
      const fd = openSync(wal, 'r+');
      const zeros = Buffer.alloc(1 << 16);
      for (let off = fstatSync(fd).size; off < WAL_WORKING_BYTES; off += zeros.length)
        writeSync(fd, zeros, 0, Math.min(zeros.length, WAL_WORKING_BYTES - off), off);
      fdatasyncSync(fd);
      closeSync(fd);
    }
  }
  execFileSync('sync', ['-f', mnt]);
  await sleep(6000); // past ext4's periodic journal commit
  execFileSync('sync', ['-f', mnt]);
  const j0 = journal();
  const c0 = card();
  for (let i = 0; i < commits; i++) {
    await ob.put(event());
    await sleep(gapMs);
  }
  execFileSync('sync', ['-f', mnt]);
  const c1 = card();
  const perCommit = (c1.bytes - c0.bytes) / commits;
  console.log(
    JSON.stringify({
      mode,
      mountOpts: process.env.MOUNT_OPTS ?? '',
      commits,
      gapMs,
      kibPerCommit: +(perCommit / 1024).toFixed(2),
      requestsPerCommit: +((c1.requests - c0.requests) / commits).toFixed(2),
      mbPerDayAt28800: Math.round((perCommit * 28_800) / 1e6),
      journal: `${j0} -> ${journal()}`,
    }),
  );
  ob.close();
} finally {
  execFileSync('umount', [mnt]);
  rmSync(dir, { recursive: true, force: true });
}
