/** A gateway upgraded in the field keeps its backlog: a schema-1 outbox (rows keyed by seq) opens as schema 2. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.js';
import type { Cursor, OutboxRow } from '../../core/contracts/outbox-store.js';
import { eventMaker } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { outboxConfig } from '../helpers/agent-config.js';

const tempDir = useTempDirs();
const config = outboxConfig();

/** The schema-1 layout as the previous release wrote it. */
function writeSchema1(
  dir: string,
  rows: { prio: number; seq: number; body: string }[],
  ackedThrough: Record<string, number>,
): void {
  const db = new Database(join(dir, 'outbox.db'));
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE segments (name TEXT PRIMARY KEY, prio INTEGER NOT NULL, acked_through INTEGER NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters VALUES ('seq.floor', 3);
    PRAGMA user_version = 1;`);
  for (const prio of new Set(rows.map((r) => r.prio))) {
    const name = `q${prio}_00000001`;
    db.exec(
      `CREATE TABLE ${name} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, route INTEGER NOT NULL, created_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, body TEXT NOT NULL)`,
    );
    db.prepare('INSERT INTO segments VALUES (?, ?, ?)').run(name, prio, ackedThrough[name] ?? 0);
    const ins = db.prepare(`INSERT INTO ${name} VALUES (?, ?, 0, 0, ?, ?)`);
    for (const r of rows.filter((x) => x.prio === prio))
      ins.run(r.seq, JSON.parse(r.body).id, Buffer.byteLength(r.body), r.body);
  }
  db.close();
}

function readAll(ob: Outbox): OutboxRow[] {
  const out: OutboxRow[] = [];
  let cursor: Cursor | null = null;
  for (let page = ob.readPage(cursor, 2); page.length > 0; page = ob.readPage(cursor, 2)) {
    out.push(...page);
    cursor = { prio: page.at(-1)!.prio, pos: page.at(-1)!.pos };
  }
  return out;
}

describe('outbox schema migration', () => {
  it('keeps a schema-1 backlog and its watermarks, and appends after it', async () => {
    const dir = tempDir();
    const make = eventMaker(dir);
    const old = [make('critical'), make('normal'), make('normal'), make('normal'), make('critical')];
    // seq 1..5 (the maker starts at 1,000,001): normal's first row was already delivered (watermark).
    writeSchema1(
      dir,
      old.map((e) => ({ prio: e.priority === 'critical' ? 0 : 2, seq: e.seq, body: JSON.stringify(e) })),
      { q2_00000001: old[1]!.seq },
    );
    const ob = new Outbox({ dir, config });
    expect(ob.stats().backlog).toMatchObject({ critical: { count: 2 }, normal: { count: 2 } });
    expect(ob.maxSeq()).toBe(old[4]!.seq);
    const fresh = make('critical');
    await ob.put(fresh);
    const rows = readAll(ob);
    expect(rows.map((r) => r.seq)).toEqual([old[0]!.seq, old[4]!.seq, fresh.seq, old[2]!.seq, old[3]!.seq]);
    expect(ob.delete(rows)).toBe(5);
    expect(ob.size).toBe(0);
    ob.close();
    const again = new Outbox({ dir, config });
    expect(again.size).toBe(0);
    again.close();
  });
});
