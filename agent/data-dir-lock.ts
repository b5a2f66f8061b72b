/**
 * One agent per data folder. Two agents on one `dataDir` take the broker's client id from
 * each other and share the outbox's segment tables: one's watermark passes the other's
 * undelivered rows (measured: 2,555 stored events never delivered).
 *
 * The lock is an exclusive SQLite transaction on `dataDir/agent.lock`, held for the agent's
 * life: an OS lock, so the kernel releases it when the process dies, even by kill -9 (a pid
 * file alone would be stale after a crash, and a pid can be reused). The holder writes its
 * pid beside it so the refusal can name it.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError, errorMessage, foreignCode } from '../core/kernel/errors.js';

export class DataDirLock {
  private constructor(
    readonly dir: string,
    private db: Database.Database | null,
  ) {}

  /** Takes the folder's lock, or throws DATA_DIR_LOCKED naming the holder's pid. */
  static acquire(dir: string): DataDirLock {
    const unusable = (err: unknown) =>
      new GatewayError(
        'DATA_DIR_UNUSABLE',
        `data folder ${dir}: the lock cannot be taken (${foreignCode(err) ?? errorMessage(err)})`,
        { cause: err },
      );
    let db: Database.Database;
    try {
      mkdirSync(dir, { recursive: true });
      db = new Database(join(dir, 'agent.lock'), { timeout: 0 });
    } catch (err) {
      throw unusable(err);
    }
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if (foreignCode(err) !== 'SQLITE_BUSY') throw unusable(err);
      const holder = readHolder(dir);
      throw new GatewayError(
        'DATA_DIR_LOCKED',
        `data folder ${dir} is in use by another agent${holder ? ` (pid ${holder})` : ''}; one agent per dataDir`,
      );
    }
    writeFileSync(join(dir, 'agent.pid'), `${process.pid}\n`);
    return new DataDirLock(dir, db);
  }

  get held(): boolean {
    return this.db !== null;
  }

  release(): void {
    if (!this.db) return;
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
      this.db = null;
    }
  }
}

function readHolder(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, 'agent.pid'), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
