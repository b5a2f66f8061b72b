/**
 * The outbox's log written out to its working size at the open (agent/outbox/wal-presize.ts):
 * the zeros are never read as events, a crash with them in place loses nothing committed, and
 * a card short of room (or failing) is left as it was.
 */
import { copyFileSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { walCheckpointPages } from '../../agent/outbox/disk-reserve.js';
import { Outbox } from '../../agent/outbox/outbox.js';
import { presizeWal, walWorkingBytes } from '../../agent/outbox/wal-presize.js';
import { outboxConfig } from '../helpers/agent-config.js';
import { eventMaker } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const WORKING = walWorkingBytes(walCheckpointPages(true), 4096);
const walOf = (dir: string) => join(dir, 'outbox.db-wal');

function open(dir: string): Outbox {
  const ob = new Outbox({ dir, config: outboxConfig() });
  ob.salvage();
  return ob;
}

/** What a kill -9 leaves: the files as the page cache holds them, the store not closed. */
function crashImage(dir: string): string {
  const copy = tempDir();
  for (const f of ['outbox.db', 'outbox.db-wal']) copyFileSync(join(dir, f), join(copy, f));
  return copy;
}

const ids = (ob: Outbox) => ob.readPage(null, 1000).map((r) => (JSON.parse(r.body) as { id: string }).id);

describe('the outbox log written out at the open', () => {
  it('is its working size from the open, and a crash with it in place keeps every committed event, and only those', async () => {
    const dir = tempDir();
    const ob = open(dir);
    expect(statSync(walOf(dir)).size, 'written out at the open').toBe(WORKING);
    const make = eventMaker(dir);
    const events = [make('critical'), make('normal'), make('high'), ...Array.from({ length: 30 }, () => make('low'))];
    await Promise.all(events.map((e) => ob.put(e)));
    expect(statSync(walOf(dir)).size, 'the commits wrote over the zeros, in place').toBe(WORKING);
    const tail = readFileSync(walOf(dir)).subarray(WORKING - 4096);
    expect(
      tail.every((b) => b === 0),
      'the end of the log is still zeros: nothing past the frames',
    ).toBe(true);

    const after = open(crashImage(dir));
    try {
      expect(ids(after).sort()).toEqual(events.map((e) => e.id).sort());
      expect(after.size).toBe(events.length);
    } finally {
      after.close();
      ob.close();
    }
  });

  it('comes back after a clean stop (SQLite deletes the log) and leaves a log already that big alone', async () => {
    const dir = tempDir();
    const make = eventMaker(dir);
    const first = open(dir);
    const e = make('normal');
    await first.put(e);
    first.close();
    const again = open(dir);
    try {
      expect(statSync(walOf(dir)).size).toBe(WORKING);
      expect(ids(again)).toEqual([e.id]);
      expect(presizeWal(walOf(dir), WORKING, { freeBytes: Infinity, keepFree: 0 })).toBe('already');
    } finally {
      again.close();
    }
  });

  it('a log of zeros alone (written out before the first commit) is an empty log', async () => {
    const dir = tempDir();
    const ob = open(dir);
    ob.close();
    writeFileSync(walOf(dir), Buffer.alloc(WORKING)); // its header zeros too
    const again = open(dir);
    try {
      expect(again.size).toBe(0);
      const e = eventMaker(dir)('critical');
      await again.put(e);
      const image = open(crashImage(dir));
      expect(ids(image)).toEqual([e.id]);
      image.close();
    } finally {
      again.close();
    }
  });

  it('leaves the log alone when the card lacks room: as much as it takes must stay free, and the reserve', () => {
    const dir = tempDir();
    writeFileSync(walOf(dir), Buffer.alloc(1000, 7));
    const adding = WORKING - 1000;
    expect(presizeWal(walOf(dir), WORKING, { freeBytes: 2 * adding + 4096 - 1, keepFree: 4096 })).toBe('no-room');
    expect(statSync(walOf(dir)).size).toBe(1000);
    expect(presizeWal(walOf(dir), WORKING, { freeBytes: 2 * adding + 4096, keepFree: 4096 })).toBe('written');
    expect(statSync(walOf(dir)).size).toBe(WORKING);
  });

  it('a write that fails part-way (a full or failing card) gives the room back and leaves the log as it was', () => {
    const dir = tempDir();
    const before = Buffer.alloc(5000, 9);
    writeFileSync(walOf(dir), before);
    const failing = {
      writeZeros(fd: number, from: number) {
        writeSync(fd, Buffer.alloc(64 * 1024), 0, 64 * 1024, from); // some of it went, as on a card that filled up mid-way
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    expect(presizeWal(walOf(dir), WORKING, { freeBytes: Infinity, keepFree: 0 }, failing)).toBe('failed');
    expect(readFileSync(walOf(dir))).toEqual(before);
    expect(
      presizeWal(join(dir, 'none-wal'), WORKING, { freeBytes: Infinity, keepFree: 0 }),
      'no log: nothing to do',
    ).toBe('failed');
  });
});
