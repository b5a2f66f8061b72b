/**
 * The outbox's commits are made durable by its own fdatasync of the write-ahead log
 * (agent/outbox/wal-sync.ts), SQLite running `synchronous = NORMAL`. The file-system edge of
 * that sync is ours: these tests watch it on the real file system (which file, when) and make
 * it fail as a dying card does (EIO), to see a failed sync fail the commit. The card itself
 * refusing the write-back is test/faults/storage-wal-sync.test.ts.
 */
import Database from 'better-sqlite3';
import { readdirSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox, type StorageFailure } from '../../agent/outbox/outbox.js';
import { realWalFs, type WalSyncFs } from '../../agent/outbox/wal-sync.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { outboxConfig } from '../helpers/agent-config.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

/** The real file system, with every fdatasync recorded (what the log holds then) and failable on demand. */
class WatchedFs implements WalSyncFs {
  failWith: string | null = null;
  /** Fails the next sync only, with this code. */
  failNext: string | null = null;
  /** Read what a restart would find at each sync (off once the log's path is gone: a new reader could not). */
  peek = true;
  readonly syncs: { ino: number; committedIds: string[]; resolved: number }[] = [];
  resolved = 0;
  constructor(private readonly dir: string) {}
  open = (path: string) => realWalFs.open(path);
  close = (fd: number) => realWalFs.close(fd);
  fdIno = (fd: number) => realWalFs.fdIno(fd);
  datasync = (fd: number) => {
    // What a restart would read right now (a second connection sees committed transactions only).
    this.syncs.push({
      ino: realWalFs.fdIno(fd),
      committedIds: this.peek ? idsOnDisk(this.dir) : [],
      resolved: this.resolved,
    });
    const fail = this.failNext ?? this.failWith;
    this.failNext = null;
    if (fail) throw Object.assign(new Error(`${fail}: i/o error, fdatasync`), { code: fail });
    realWalFs.datasync(fd);
  };
}

/** Ids of the rows above their segment's watermark, read through a connection of its own. */
function idsOnDisk(dir: string): string[] {
  const db = new Database(join(dir, 'outbox.db'), { readonly: true });
  try {
    const segs = db.prepare('SELECT name, acked_through FROM segments').all() as {
      name: string;
      acked_through: number;
    }[];
    return segs.flatMap((s) =>
      (db.prepare(`SELECT id FROM ${s.name} WHERE pos > ? ORDER BY pos`).all(s.acked_through) as { id: string }[]).map(
        (r) => r.id,
      ),
    );
  } finally {
    db.close();
  }
}

function rig(dir = tempDir()) {
  const fs = new WatchedFs(dir);
  const clock = new FakeClock();
  const ob = new Outbox({ dir, config: outboxConfig({ groupCommitMs: 5 }), clock, walFs: fs });
  const failures: StorageFailure[] = [];
  ob.on('storageFailure', (f) => failures.push(f));
  const make = eventMaker(dir, clock);
  const put = (e: GatewayEvent) =>
    ob.put(e).then(() => {
      fs.resolved += 1;
    });
  return { dir, fs, ob, failures, make, put };
}

/** Inodes of the files this process holds open under `path` (SQLite's descriptors and ours). */
function openInodes(path: string): { ino: number; deleted: boolean }[] {
  const out: { ino: number; deleted: boolean }[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the directory's own descriptor, closed meanwhile
    }
    if (target !== path && target !== `${path} (deleted)`) continue;
    out.push({ ino: statSync(`/proc/self/fd/${fd}`).ino, deleted: target.endsWith(' (deleted)') });
  }
  return out;
}

describe('the log synced by the outbox (wal-sync.ts)', () => {
  it('syncs the log SQLite writes after each commit and before the event counts as stored; a group is one sync', async () => {
    const { dir, fs, ob, make, put } = rig();
    const wal = join(dir, 'outbox.db-wal');
    const atOpen = fs.syncs.length;
    expect(atOpen, 'the schema commit of a new store is synced at the open').toBe(1);

    const alarm = make('critical');
    await put(alarm);
    const s = fs.syncs.at(-1)!;
    expect(fs.syncs).toHaveLength(atOpen + 1);
    expect(s.ino, 'the file synced is the log at its path').toBe(statSync(wal).ino);
    expect(s.committedIds, 'synced after SQLite committed the row').toContain(alarm.id);
    expect(s.resolved, 'and before put() resolved').toBe(0);

    // Telemetry waits for its group: three readings, one commit, one sync.
    const readings = [make('normal'), make('normal'), make('normal')];
    await Promise.all(readings.map(put));
    expect(fs.syncs).toHaveLength(atOpen + 2);
    expect(fs.syncs.at(-1)!.committedIds).toEqual(expect.arrayContaining(readings.map((r) => r.id)));
    expect(fs.syncs.at(-1)!.resolved).toBe(1);

    // Deliveries are not synced (late-watermarks.ts): the next synced commit carries them.
    ob.delete(ob.readPage(null, 10));
    expect(fs.syncs).toHaveLength(atOpen + 2);
    expect(openInodes(wal).every((f) => f.ino === statSync(wal).ino)).toBe(true);
    ob.close();
  });

  it('a failed sync (EIO) fails the commit as an SQLite I/O error does: rejected, counted lost, never sent', async () => {
    const { dir, fs, ob, failures, make, put } = rig();
    await put(make('critical'));
    fs.failWith = 'EIO';
    const lostAlarm = make('critical');
    await expect(ob.put(lostAlarm)).rejects.toMatchObject({ code: 'STORAGE_FAILED', storeCode: 'EIO' });
    expect(fs.syncs.at(-1)!.committedIds, 'SQLite had committed it: only the sync failed').toContain(lostAlarm.id);
    expect(failures).toMatchObject([{ op: 'commit', events: 1 }]);
    expect(ob.stats().shed.critical, 'counted for the county as not stored').toBe(1);
    expect(ob.readPage(null, 10).map((r) => r.seq)).not.toContain(lostAlarm.seq);

    const lostReadings = [make('normal'), make('normal')];
    const settled = await Promise.allSettled(lostReadings.map((e) => ob.put(e)));
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(ob.stats().shed.normal).toBe(2);

    // The card comes back: a new commit works, and what a restart finds holds none of the failed events.
    fs.failWith = null;
    const after = make('high');
    await put(after);
    ob.close();
    const onDisk = idsOnDisk(dir);
    expect(onDisk).toContain(after.id);
    for (const e of [lostAlarm, ...lostReadings]) expect(onDisk).not.toContain(e.id);
    const again = new Outbox({ dir, config: outboxConfig(), clock: new FakeClock() });
    again.on('storageFailure', (f) => {
      throw f.error;
    });
    expect(again.stats().shed).toMatchObject({ critical: 1, normal: 2 });
    expect(again.size).toBe(2);
    again.close();
  });

  it('a sync refused for room (ENOSPC) lets the reserve go for the alarm: one copy of it stored, the reading refused', async () => {
    const dir = tempDir();
    const fs = new WatchedFs(dir);
    const clock = new FakeClock();
    const config = outboxConfig({ groupCommitMs: 1000 });
    const ob = new Outbox({ dir, config, clock, walFs: fs, diskReserveBytes: 65_536 });
    const failures: StorageFailure[] = [];
    ob.on('storageFailure', (f) => failures.push(f));
    const make = eventMaker(dir, clock);
    const reading = make('normal');
    const press = make('critical', 0, 'alarm.pressed');
    const readingStored = ob.put(reading).then(
      () => 'stored',
      (e: { code?: string }) => e.code,
    );
    fs.failNext = 'ENOSPC'; // the press takes the waiting reading along: one commit, whose sync fails
    await ob.put(press);
    expect(await readingStored).toBe('DISK_FULL');
    expect(fs.syncs.at(-2)!.committedIds, 'SQLite had committed both').toEqual(
      expect.arrayContaining([reading.id, press.id]),
    );
    expect(ob.stats().diskReserve.releases).toBe(1);
    expect(
      ob.readPage(null, 10).map((r) => r.seq),
      'the press once, the reading not at all',
    ).toEqual([press.seq]);
    ob.close();
    expect(idsOnDisk(dir)).toEqual([press.id]);
  });

  it('follows the log when a new connection recreates it, and keeps SQLite’s own when the path is replaced under it', async () => {
    const dir = tempDir();
    const wal = join(dir, 'outbox.db-wal');
    const first = rig(dir);
    await first.put(first.make('critical'));
    const firstIno = statSync(wal).ino;
    // Another connection opening and closing (a CLI's look) is not the last one: the log stays.
    const look = new Database(join(dir, 'outbox.db'), { readonly: true });
    look.prepare('SELECT COUNT(*) FROM segments').get();
    look.close();
    expect(statSync(wal).ino).toBe(firstIno);
    first.ob.close(); // the last connection: SQLite checkpoints and deletes the log
    expect(() => statSync(wal)).toThrow(/ENOENT/);
    expect(openInodes(wal), 'no descriptor of the old log is left open').toEqual([]);

    const second = rig(dir);
    const e = second.make('critical');
    await second.put(e);
    const secondIno = statSync(wal).ino;
    expect(second.fs.syncs.at(-1)!.ino, 'the new log is the one synced').toBe(secondIno);

    // The path deleted under the running agent (the storage-lost fault): SQLite goes on writing
    // the file it opened, so that one is synced, not whatever the path names later.
    unlinkSync(wal);
    second.fs.peek = false;
    const orphan = second.make('critical');
    await second.put(orphan);
    const held = openInodes(wal);
    expect(held.length).toBeGreaterThanOrEqual(2); // SQLite's descriptor and ours
    expect(held.every((f) => f.deleted && f.ino === secondIno)).toBe(true);
    expect(second.fs.syncs.at(-1)!.ino).toBe(secondIno);
    expect(second.ob.readPage(null, 10).map((r) => r.seq)).toContain(orphan.seq);
    second.ob.close();
  });
});
