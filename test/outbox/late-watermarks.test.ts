/**
 * Deliveries' watermarks reach the disk late (agent/outbox/late-watermarks.ts): gone at once for
 * the outbox's readers, written with the first commit once due (by age or by rows), by a commit of
 * their own when none comes, at close; critical and high at once. What is on disk is read through a second connection,
 * as a restart after a power cut would find it.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LATE_ROWS } from '../../agent/outbox/late-watermarks.js';
import { Outbox } from '../../agent/outbox/outbox.js';
import type { Priority } from '../../core/contracts/event.js';
import { outboxConfig } from '../helpers/agent-config.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();

/** Rows a restart would find undelivered: above their segment's stored watermark. */
function liveOnDisk(dir: string): number {
  const db = new Database(join(dir, 'outbox.db'), { readonly: true });
  try {
    const segments = db.prepare('SELECT name, acked_through FROM segments').all() as {
      name: string;
      acked_through: number;
    }[];
    let live = 0;
    for (const s of segments)
      live += (db.prepare(`SELECT COUNT(*) AS n FROM ${s.name} WHERE pos > ?`).get(s.acked_through) as { n: number }).n;
    return live;
  } finally {
    db.close();
  }
}

/** The log's bytes, not its size: once a log is reused in place a write leaves its size as it was. */
const walBytes = (dir: string) => readFileSync(join(dir, 'outbox.db-wal'));

function rig(lateWatermarkMs: number) {
  const dir = tempDir();
  const clock = new FakeClock();
  const ob = new Outbox({ dir, config: outboxConfig(), clock, lateWatermarkMs });
  ob.on('storageFailure', (f) => {
    throw f.error;
  });
  const make = eventMaker(dir, clock);
  const put = (priority: Priority, n = 1) => Promise.all(Array.from({ length: n }, () => ob.put(make(priority))));
  return { dir, clock, ob, put };
}

describe('late watermarks', () => {
  it('a delivery leaves at once for readers, and reaches the disk with the first commit once due', async () => {
    const { dir, clock, ob, put } = rig(3_600_000); // the timer never fires here: commits carry them
    await put('normal', 5);
    const before = walBytes(dir);
    expect(ob.delete(ob.readPage(null, 3))).toBe(3);
    expect(ob.size).toBe(2);
    expect(ob.readPage(null, 10)).toHaveLength(2);
    expect(walBytes(dir).equals(before), 'the delete wrote nothing').toBe(true);
    expect(liveOnDisk(dir)).toBe(5);

    await put('normal'); // a commit before they are due: the reading alone
    expect(liveOnDisk(dir)).toBe(6);
    clock.advance(3_600_000);
    await put('low'); // the first commit once due takes them along
    expect(liveOnDisk(dir)).toBe(4);
    expect(ob.size).toBe(4);
    ob.close();
  });

  it('a drained backlog is written every LATE_ROWS rows: a crash re-sends no more than that', async () => {
    const { dir, ob, put } = rig(3_600_000);
    await put('normal', LATE_ROWS + 10);
    ob.delete(ob.readPage(null, LATE_ROWS - 1));
    expect(liveOnDisk(dir)).toBe(LATE_ROWS + 10);
    const [next] = ob.readPage(null, 1);
    ob.delete([next!]);
    expect(liveOnDisk(dir)).toBe(10);
    ob.close();
  });

  it('critical and high deliveries are written at once', async () => {
    const { dir, ob, put } = rig(3_600_000);
    await put('critical');
    await put('high');
    await put('normal');
    expect(ob.delete(ob.readPage(null, 2))).toBe(2);
    expect(liveOnDisk(dir)).toBe(1);
    ob.close();
  });

  it('with no other commit they are written by one of their own, and close() writes what is left', async () => {
    const quiet = rig(200);
    await quiet.put('normal', 3);
    quiet.ob.delete(quiet.ob.readPage(null, 3));
    expect(liveOnDisk(quiet.dir)).toBe(3);
    await waitUntil(() => liveOnDisk(quiet.dir) === 0, 5000, 'the watermarks written');
    quiet.ob.close();

    const closing = rig(3_600_000);
    await closing.put('normal', 3);
    closing.ob.delete(closing.ob.readPage(null, 2));
    closing.ob.close();
    expect(liveOnDisk(closing.dir)).toBe(1);
    const again = new Outbox({ dir: closing.dir, config: outboxConfig() });
    expect(again.size).toBe(1);
    again.close();
  });
});
