import {
  existsSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { eventMaker } from '../helpers/events.js';
import { outboxConfig } from '../helpers/agent-config.js';

/** Opens the outbox and takes the salvage step, as the agent's start does. */
function opened(o: ConstructorParameters<typeof Outbox>[0]): Outbox {
  const ob = new Outbox(o);
  ob.salvage();
  return ob;
}

const tempDir = useTempDirs();
const config = outboxConfig();

async function filledStore(dir: string, n: number) {
  const ob = opened({ dir, config });
  const make = eventMaker(dir);
  await Promise.all(Array.from({ length: n }, () => ob.put(make('normal', 200))));
  ob.close();
  return join(dir, 'outbox.db');
}

describe('outbox recovery', () => {
  it('moves a garbage file aside and starts fresh, saying why (nothing to salvage)', async () => {
    const dir = tempDir();
    const file = join(dir, 'outbox.db');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const ob = opened({ dir, config });
    expect(ob.recovered).not.toBeNull();
    expect(ob.recovered!.reason).toMatch(/NOTADB|not a database/i);
    expect(readFileSync(ob.recovered!.movedTo)).toEqual(Buffer.alloc(8192, 0x5a)); // kept for recovery
    expect(ob.size).toBe(0);
    await ob.put(eventMaker(dir)('critical'));
    expect(ob.size).toBe(1);
    ob.close();
  });

  it('salvages the readable half of a truncated (torn) file', async () => {
    const dir = tempDir();
    const file = await filledStore(dir, 3000);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const ob = opened({ dir, config });
    expect(ob.recovered?.reason).toMatch(/quick_check|malformed|CORRUPT/i);
    expect(existsSync(ob.recovered!.movedTo)).toBe(true);
    // The readable first half is salvaged; how many rows the torn end held cannot be known.
    const salvage = ob.recovered!.salvage!;
    expect(salvage.recovered).toBeGreaterThan(1000);
    expect(salvage.recovered).toBeLessThan(3000);
    expect(salvage.unreadableTails).toHaveLength(1);
    expect(ob.size).toBe(salvage.recovered);
    ob.close();
  });

  it('salvages the rows of a table whose root page was overwritten, from its leaf pages', async () => {
    const dir = tempDir();
    const file = await filledStore(dir, 3000);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 4, 0xff), 0, 4096 * 4, 4096 * 3);
    closeSync(fd);
    const ob = opened({ dir, config });
    expect(ob.recovered).not.toBeNull();
    // The table's root page is among them: no b-tree walk gets past it, the leaf pages still hold the rows.
    const salvage = ob.recovered!.salvage!;
    expect(salvage.fromPages).toBeGreaterThan(2900);
    expect(salvage.recovered).toBeLessThan(3000); // the rows of the overwritten leaf pages are gone
    expect(ob.size).toBe(salvage.recovered);
    ob.close();
    // A second open of the fresh store is clean: no crash loop, no second recovery.
    const again = opened({ dir, config });
    expect(again.recovered).toBeNull();
    again.close();
  });

  it('salvages every readable event around 50 flipped bytes in one page, in replay order, and counts the stranded ones', async () => {
    const dir = tempDir();
    const make = eventMaker(dir);
    const ob = opened({ dir, config });
    const events = Array.from({ length: 3160 }, (_, i) => make(i % 200 === 0 ? 'critical' : 'normal', 200));
    await Promise.all(events.map((e) => ob.put(e)));
    ob.close();
    const file = join(dir, 'outbox.db');
    const pages = statSync(file).size / 4096;
    const page = Math.floor(pages / 2);
    const fd = openSync(file, 'r+');
    const bytes = Buffer.alloc(1);
    for (let i = 0; i < 50; i++) {
      bytes[0] = 0xa5 ^ i;
      writeSync(fd, bytes, 0, 1, page * 4096 + 100 + i * 60); // inside the page's cell area
    }
    closeSync(fd);
    const again = opened({ dir, config });
    const salvage = again.recovered!.salvage!;
    expect(salvage).toMatchObject({ catalogReadable: true, unreadableTables: [], unreadableTails: [] });
    expect(salvage.stranded).toBeGreaterThan(0);
    expect(salvage.stranded).toBeLessThan(40); // one page of ~230-byte rows, not the backlog
    expect(salvage.recovered + salvage.stranded).toBe(3160);
    expect(again.stats().backlog.critical.count).toBeGreaterThanOrEqual(15); // 16 critical; at most one on the bad page
    const read = again.readPage(null, 5000).map((r) => (JSON.parse(r.body) as { id: string }).id);
    const order = new Map(events.map((e, i) => [e.id, i]));
    const byPrio = read.map((id) => order.get(id)!);
    expect(new Set(read).size).toBe(read.length);
    expect(read.every((id) => order.has(id))).toBe(true);
    expect(byPrio.slice(-100)).toEqual([...byPrio.slice(-100)].sort((a, b) => a - b)); // normal ones in their original order
    again.close();
  });

  it('opens a healthy store without recovery', async () => {
    const dir = tempDir();
    await filledStore(dir, 10);
    const ob = opened({ dir, config });
    expect(ob.recovered).toBeNull();
    expect(ob.size).toBe(10);
    ob.close();
  });
});

describe('a salvage cut short', () => {
  it('is done again at the next open, so no undelivered row of the corrupt file is left behind', async () => {
    const dir = tempDir();
    const file = await filledStore(dir, 500);
    truncateSync(file, Math.floor(statSync(file).size * 0.8));
    const first = opened({ dir, config });
    const recovered = first.recovered!.salvage!.recovered;
    expect(recovered).toBeGreaterThan(100);
    first.close();
    // As if the power went during that salvage: its marker is still there.
    writeFileSync(join(dir, 'outbox.db.salvaging'), first.recovered!.movedTo);
    const again = opened({ dir, config });
    expect(again.recovered).toMatchObject({ reason: 'an earlier salvage was cut short', salvage: { recovered } });
    expect(again.size).toBe(2 * recovered); // copied twice: the same ids, which the county drops
    expect(existsSync(join(dir, 'outbox.db.salvaging'))).toBe(false);
    again.close();
    const third = opened({ dir, config });
    expect(third.recovered).toBeNull();
    third.close();
  });
});
