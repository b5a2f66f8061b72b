/**
 * The three readers of the outbox's file agree on what it holds: the outbox itself (what the
 * uplink reads and health reports), `outbox stats` (inspect.ts, a read-only look while the
 * agent runs) and salvage (salvage.ts, what a moved-aside store still gives). A store written
 * as the agent writes it: tiny segments (some dropped whole), deliveries acknowledged out of
 * order, health rows, and low events shed for room.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRIORITIES, type GatewayEvent, type Priority } from '../../core/contracts/event.js';
import { inspectOutbox } from '../../agent/outbox/inspect.js';
import { Outbox } from '../../agent/outbox/outbox.js';
import { salvageRows, type SalvagedRow } from '../../agent/outbox/salvage.js';
import { eventMaker } from '../helpers/events.js';
import { outboxConfig } from '../helpers/agent-config.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

/** What a reader says of one undelivered event. */
const seen = (r: { prio: number; seq: number; route: number; body: string }) => ({
  id: (JSON.parse(r.body) as GatewayEvent).id,
  prio: r.prio,
  seq: r.seq,
  route: r.route,
  body: r.body,
});
const byPrioSeq = (a: { prio: number; seq: number }, b: { prio: number; seq: number }) =>
  a.prio - b.prio || a.seq - b.seq;

async function writtenStore(dir: string): Promise<void> {
  const make = eventMaker(dir);
  const size = Buffer.byteLength(JSON.stringify(make('low')));
  const config = outboxConfig({ maxBytes: size * 60, criticalReserveBytes: size * 5 });
  const outbox = new Outbox({ dir, config, segmentRows: 4 });
  const mix: Priority[] = ['low', 'normal', 'critical', 'low', 'high', 'normal', 'low', 'low'];
  const events = Array.from({ length: 80 }, (_, i) =>
    i % 9 === 4 ? { ...make('normal'), type: 'gateway.health' } : make(mix[i % mix.length]!),
  );
  // Stored as the agent stores them; some are refused for room (the low ones shed first).
  await Promise.allSettled(events.map((e) => outbox.put(e)));
  const rows = outbox.readPage(null, 30);
  // The broker acknowledges every other row of the first 30, the later ones first.
  expect(outbox.delete(rows.filter((_, i) => i % 2 === 1).reverse())).toBe(15);
  expect(outbox.delete(rows.slice(0, 6))).toBe(3); // three of them were acknowledged already
  outbox.close();
}

describe('the outbox file’s three readers', () => {
  it('the outbox, outbox stats and salvage see the same undelivered events', async () => {
    const dir = tempDir();
    await writtenStore(dir);

    const outbox = new Outbox({ dir, config: outboxConfig(), segmentRows: 4 });
    const undelivered = outbox.readPage(null, 10_000).map(seen);
    const stats = outbox.stats();
    outbox.close();
    expect(undelivered.length).toBeGreaterThan(20);
    expect(
      Object.values(stats.shed).reduce((a, b) => a + b, 0),
      'the store was written full',
    ).toBeGreaterThan(0);

    const look = inspectOutbox(dir);
    expect(look.backlog).toEqual(stats.backlog);
    expect(look.total).toEqual(stats.total);
    expect(look.shed).toEqual(stats.shed);
    expect(look.oldest).toBe(new Date(stats.oldestCreatedMs!).toISOString());

    // Salvage reads a moved-aside file: a copy, so the store itself stays as the outbox left it.
    const moved = join(tempDir(), 'outbox.db.corrupt');
    copyFileSync(join(dir, 'outbox.db'), moved);
    const salvaged: SalvagedRow[] = [];
    const report = salvageRows(moved, (r) => salvaged.push(r));
    expect(report).toMatchObject({ recovered: undelivered.length, stranded: 0, catalogReadable: true });
    expect(salvaged.map(seen).sort(byPrioSeq)).toEqual([...undelivered].sort(byPrioSeq));
    for (const p of PRIORITIES)
      expect(salvaged.filter((r) => PRIORITIES[r.prio] === p).length, p).toBe(stats.backlog[p].count);
  });
});
