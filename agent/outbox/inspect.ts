/** Read-only look at an outbox on disk, safe while the agent runs (WAL allows a second reader). */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PRIORITIES, type Priority } from '../../core/contracts/event.js';
import { GatewayError } from '../../core/kernel/errors.js';

export interface OutboxSnapshot {
  file: string;
  backlog: Record<Priority, { count: number; bytes: number }>;
  total: { count: number; bytes: number };
  oldest: string | null;
  shed: Record<Priority, number>;
}

export function inspectOutbox(dataDir: string): OutboxSnapshot {
  const file = join(dataDir, 'outbox.db');
  if (!existsSync(file)) throw new GatewayError('NO_OUTBOX', `no outbox at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const backlog = Object.fromEntries(PRIORITIES.map((p) => [p, { count: 0, bytes: 0 }])) as OutboxSnapshot['backlog'];
    const firsts: number[] = [];
    const segments = db.prepare('SELECT name, prio, acked_through FROM segments').all() as {
      name: string;
      prio: number;
      acked_through: number;
    }[];
    for (const seg of segments) {
      const live = db
        .prepare(`SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes FROM ${seg.name} WHERE pos > ?`)
        .get(seg.acked_through) as { count: number; bytes: number };
      const b = backlog[PRIORITIES[seg.prio]!];
      b.count += live.count;
      b.bytes += live.bytes;
      const first = db
        .prepare(`SELECT created_ms FROM ${seg.name} WHERE pos > ? ORDER BY pos LIMIT 1`)
        .get(seg.acked_through) as { created_ms: number } | undefined;
      if (first) firsts.push(first.created_ms);
    }
    const shed = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
    for (const r of db.prepare("SELECT name, value FROM counters WHERE name LIKE 'shed.%'").all() as {
      name: string;
      value: number;
    }[]) {
      const p = r.name.slice(5) as Priority;
      if (p in shed) shed[p] = r.value;
    }
    const values = Object.values(backlog);
    return {
      file,
      backlog,
      total: { count: values.reduce((a, v) => a + v.count, 0), bytes: values.reduce((a, v) => a + v.bytes, 0) },
      oldest: firsts.length > 0 ? new Date(Math.min(...firsts)).toISOString() : null,
      shed,
    };
  } finally {
    db.close();
  }
}
