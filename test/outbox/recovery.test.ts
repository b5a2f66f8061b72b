import { existsSync, readFileSync, statSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { eventMaker } from '../helpers/events.js';

const tempDir = useTempDirs();
const config = gatewayConfigSchema.parse({ version: 1, gateway: { id: 'gw' }, dataDir: '/x', mqtt: { url: 'mqtt://h' } }).outbox;

async function filledStore(dir: string, n: number) {
  const ob = new Outbox({ dir, config });
  const make = eventMaker(dir);
  await Promise.all(Array.from({ length: n }, () => ob.put(make('normal', 200))));
  ob.close();
  return join(dir, 'outbox.db');
}

describe('outbox recovery', () => {
  it('moves a garbage file aside and starts fresh, saying why', async () => {
    const dir = tempDir();
    const file = join(dir, 'outbox.db');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const ob = new Outbox({ dir, config });
    expect(ob.recovered).not.toBeNull();
    expect(ob.recovered!.reason).toMatch(/NOTADB|not a database/i);
    expect(readFileSync(ob.recovered!.movedTo)).toEqual(Buffer.alloc(8192, 0x5a)); // kept for recovery
    expect(ob.size).toBe(0);
    await ob.put(eventMaker(dir)('critical'));
    expect(ob.size).toBe(1);
    ob.close();
  });

  it('recovers from a truncated (torn) file', async () => {
    const dir = tempDir();
    const file = await filledStore(dir, 3000);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const ob = new Outbox({ dir, config });
    expect(ob.recovered?.reason).toMatch(/quick_check|malformed|CORRUPT/i);
    expect(existsSync(ob.recovered!.movedTo)).toBe(true);
    expect(ob.size).toBe(0);
    ob.close();
  });

  it('recovers from pages overwritten in the middle', async () => {
    const dir = tempDir();
    const file = await filledStore(dir, 3000);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 4, 0xff), 0, 4096 * 4, 4096 * 3);
    closeSync(fd);
    const ob = new Outbox({ dir, config });
    expect(ob.recovered).not.toBeNull();
    ob.close();
    // A second open of the fresh store is clean: no crash loop, no second recovery.
    const again = new Outbox({ dir, config });
    expect(again.recovered).toBeNull();
    again.close();
  });

  it('opens a healthy store without recovery', async () => {
    const dir = tempDir();
    await filledStore(dir, 10);
    const ob = new Outbox({ dir, config });
    expect(ob.recovered).toBeNull();
    expect(ob.size).toBe(10);
    ob.close();
  });
});
