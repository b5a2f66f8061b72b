/**
 * Ingest benchmarks, each against a baseline measured in the same run:
 * - ingest.critical (outbox put, fsync per event) vs fsync.raw (append + fdatasync loop)
 * - ingest.grouped (outbox put, group commits) vs sqlite.raw (better-sqlite3, 100 rows/tx)
 * - ingest.grouped vs lowdb.queue (lowdb as a queue: one write per event at a 10k backlog)
 */
import Database from 'better-sqlite3';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { Outbox } from '../../agent/outbox/outbox.js';
import { benchDir, eventSource, outboxConfig } from './fixtures.js';
import { medianOf, result, type BenchResult } from './result.js';

const CRITICAL_N = 2000;
const GROUPED_N = 100_000;

async function ingestCritical(): Promise<number> {
  const dir = benchDir('crit');
  const ob = new Outbox({ dir, config: outboxConfig() });
  const make = eventSource(dir);
  const t0 = performance.now();
  for (let i = 0; i < CRITICAL_N; i++) await ob.put(make('critical', i));
  const rate = CRITICAL_N / ((performance.now() - t0) / 1000);
  ob.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

function fsyncRaw(): number {
  const dir = benchDir('fsync');
  const fd = openSync(join(dir, 'log'), 'a');
  const make = eventSource(dir);
  const t0 = performance.now();
  for (let i = 0; i < CRITICAL_N; i++) {
    writeSync(fd, `${JSON.stringify(make('critical', i))}\n`);
    fdatasyncSync(fd);
  }
  const rate = CRITICAL_N / ((performance.now() - t0) / 1000);
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function ingestGrouped(): Promise<number> {
  const dir = benchDir('grouped');
  const ob = new Outbox({ dir, config: outboxConfig() });
  const make = eventSource(dir);
  const t0 = performance.now();
  // Producers do not wait for each other; each awaits its own acknowledgement.
  for (let i = 0; i < GROUPED_N; i += 5000) {
    const acks: Promise<void>[] = [];
    for (let j = i; j < i + 5000; j++) acks.push(ob.put(make('normal', j)));
    await Promise.all(acks);
  }
  const rate = GROUPED_N / ((performance.now() - t0) / 1000);
  ob.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

function sqliteRaw(): number {
  const dir = benchDir('sqlite');
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE q (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const ins = db.prepare('INSERT INTO q (seq, body) VALUES (?, ?)');
  const make = eventSource(dir);
  const tx = db.transaction((rows: { seq: number; body: string }[]) => rows.forEach((r) => ins.run(r.seq, r.body)));
  const t0 = performance.now();
  for (let i = 0; i < GROUPED_N; i += 100) {
    const rows = [];
    for (let j = i; j < i + 100; j++) {
      const e = make('normal', j);
      rows.push({ seq: e.seq, body: JSON.stringify(e) });
    }
    tx(rows);
  }
  const rate = GROUPED_N / ((performance.now() - t0) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function lowdbQueue(): Promise<number> {
  const dir = benchDir('lowdb');
  const make = eventSource(dir);
  const db = new Low<{ queue: unknown[] }>(new JSONFile(join(dir, 'queue.json')), { queue: [] });
  for (let i = 0; i < 10_000; i++) db.data.queue.push(make('normal', i));
  await db.write();
  const n = 200;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    db.data.queue.push(make('normal', i));
    await db.write();
  }
  const rate = n / ((performance.now() - t0) / 1000);
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

export async function ingestBenchmarks(): Promise<BenchResult[]> {
  // Interleave value and baseline runs so drift on a shared machine hits both alike.
  const fsyncBase = await medianOf(3, fsyncRaw);
  const critical = await medianOf(3, ingestCritical);
  const sqliteBase = await medianOf(3, sqliteRaw);
  const grouped = await medianOf(3, ingestGrouped);
  const lowdb = await medianOf(1, lowdbQueue);
  return [
    result('fsync.raw', fsyncBase, 'events/s'),
    result('ingest.critical', critical, 'events/s', { name: 'fsync.raw', value: fsyncBase }, { goal: 'ratio >= 0.7' }),
    result('sqlite.raw', sqliteBase, 'events/s'),
    result('ingest.grouped', grouped, 'events/s', { name: 'sqlite.raw', value: sqliteBase }, { goal: 'ratio >= 0.5' }),
    result('lowdb.queue', lowdb, 'events/s'),
    result('ingest.grouped', grouped, 'events/s', { name: 'lowdb.queue', value: lowdb }, { goal: 'ratio >= 500' }),
  ];
}
