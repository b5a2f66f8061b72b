/**
 * A card that takes SQLite's writes into the page cache but cannot write them back (as root;
 * CI runs as root): the outbox on ext4 in an image, loop-mounted from a small tmpfs that is
 * then filled, so the loop device fails every write-back to a new block. SQLite runs
 * `synchronous = NORMAL` and its commits succeed in memory; only the outbox's own fdatasync of
 * the log (agent/outbox/wal-sync.ts) learns that the card did not take them. Without that sync
 * every event here would count as stored and vanish at the next power cut.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox, type StorageFailure } from '../../agent/outbox/outbox.js';
import { outboxConfig } from '../helpers/agent-config.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { fillCard, mountSmallCard } from '../helpers/small-card.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

/** An ext4 card in a sparse image on `host`: its blocks take room on the host only once written back. */
function ext4Card(host: string): string {
  const image = join(host, 'card.img');
  const card = join(host, '..', 'ext4');
  mkdirSync(card);
  execFileSync('truncate', ['-s', '64M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  execFileSync('mount', ['-o', 'loop', image, card]);
  cleanup(() => execFileSync('umount', ['-l', card]));
  return card;
}

describe(`a card that fails the write-back (${process.getuid?.() === 0 ? 'ext4 on a loop device on a full tmpfs' : 'needs root'})`, () => {
  it('fails the commit whose log could not be synced: rejected and counted lost, as a failed SQLite commit', async () => {
    expect(process.getuid?.(), 'this test mounts file systems: run it as root (CI does)').toBe(0);
    const host = mountSmallCard(tempDir(), '24m', cleanup);
    const dir = join(ext4Card(host), 'data');
    const clock = new FakeClock();
    const ob = new Outbox({ dir, config: outboxConfig({ groupCommitMs: 5 }), clock });
    const failures: StorageFailure[] = [];
    ob.on('storageFailure', (f) => failures.push(f));
    cleanup(() => ob.close());
    const make = eventMaker(join(host, '..'), clock);

    const kept = make('critical');
    await ob.put(kept);
    fillCard(host);

    const lost = make('critical');
    const err = await ob.put(lost).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, 'the alarm must not count as stored').toMatchObject({ code: 'STORAGE_FAILED' });
    // The card's refusal reached the outbox through its own sync, not through an SQLite write.
    expect((err as Error).message).toMatch(/^outbox commit failed: (ENOSPC|EIO): .*fdatasync/);
    const readings = await Promise.allSettled([make('normal'), make('normal')].map((e) => ob.put(e)));
    expect(readings.map((r) => r.status)).toEqual(['rejected', 'rejected']);

    expect(ob.stats().shed).toMatchObject({ critical: 1, normal: 2 });
    // SQLite had committed the alarm's batch in memory; its withdrawal is a write too, which this
    // card refuses as well (after the failed write-back ext4 fails the writes themselves, so the
    // readings' commit fails inside SQLite and rolls back, as every commit on a dead card did
    // before): reported, and that one row stays readable (wal-sync.ts, withdrawRows).
    expect(failures.map((f) => `${f.op} ${f.error.message}`)).toEqual([
      expect.stringMatching(/^commit outbox commit failed: (ENOSPC|EIO): .*fdatasync$/),
      expect.stringMatching(/^delete outbox withdraw failed: SQLITE_IOERR/),
      expect.stringMatching(/^commit outbox commit failed: SQLITE_IOERR/),
    ]);
    expect(failures.map((f) => f.events)).toEqual([1, 0, 2]);
  });
});
