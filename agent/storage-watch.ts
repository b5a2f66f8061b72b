/**
 * Watches the data folder while the agent runs. A card remounted read-only, or a folder
 * deleted under a running agent, fails quietly otherwise: SQLite goes on writing into the
 * unlinked file, and every event "stored" there is gone at the next restart. Either is a
 * critical local alarm: the sirens' test pattern, an SMS where a modem is configured, and a
 * critical `gateway.storage_failed` event (local rules see it at once; the county gets it if
 * the link is up). Repeated at most every `repeatMs` while it lasts; its end is logged and
 * reported as `gateway.storage_restored`.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { foreignCode, failure } from '../core/kernel/errors.js';

export interface StorageWatchPorts {
  dataDir: string;
  logger: Logger;
  monoMs: () => number;
  /** The alarm: sirens, SMS, event. */
  raise: (reason: string) => void;
  restored: (reason: string) => void;
  checkEveryMs?: number;
  repeatMs?: number;
}

/** Codes that mean the folder itself is gone or unwritable (not a full disk: that has its own reserve). */
const LOST = /^(EROFS|EACCES|EPERM|ENOENT|ENOTDIR|EIO|SQLITE_READONLY|SQLITE_CANTOPEN|SQLITE_IOERR(?!_SHORT_READ))/;

export function meansStorageLost(code: string | undefined): boolean {
  return code !== undefined && LOST.test(code);
}

export class StorageWatch {
  private readonly dbIno: number | null;
  private timer: NodeJS.Timeout | null = null;
  private lostSince: string | null = null;
  /** Whether the loss was seen in a failed write (then only a write that works again ends it). */
  private lostByFailure = false;
  private lastRaisedMs = -Infinity;

  constructor(private readonly ports: StorageWatchPorts) {
    this.dbIno = inode(join(ports.dataDir, 'outbox.db'));
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.ports.checkEveryMs ?? 5000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get lost(): string | null {
    return this.lostSince;
  }

  /** A write failure someone saw (its code says whether the folder is lost). */
  noteFailure(code: string | undefined, message: string): void {
    if (!meansStorageLost(code)) return;
    if (this.lostSince === null) this.lostByFailure = true;
    this.lose(`${code}: ${message}`);
  }

  /** A write worked: a loss that only failed writes showed is over. */
  noteSuccess(): void {
    if (this.lostSince !== null && this.lostByFailure) this.end();
  }

  check(): void {
    const problem = this.problem();
    if (problem) {
      if (this.lostSince === null) this.lostByFailure = false;
      this.lose(problem);
    } else if (this.lostSince !== null && !this.lostByFailure) this.end();
  }

  private end(): void {
    const was = this.lostSince!;
    this.lostSince = null;
    this.lostByFailure = false;
    this.ports.logger.info({ was }, 'data folder usable again');
    this.ports.restored(was);
  }

  private problem(): string | null {
    const { dataDir } = this.ports;
    try {
      if (!statSync(dataDir).isDirectory()) return `dataDir ${dataDir} is no longer a folder`;
    } catch {
      return `dataDir ${dataDir} has vanished`;
    }
    try {
      accessSync(dataDir, constants.W_OK);
    } catch (err) {
      return `dataDir ${dataDir} is not writable (${foreignCode(err) ?? 'error'})`;
    }
    const ino = inode(join(dataDir, 'outbox.db'));
    if (this.dbIno !== null && ino !== this.dbIno)
      return `the outbox file in ${dataDir} was deleted or replaced while running`;
    return null;
  }

  private lose(reason: string): void {
    const now = this.ports.monoMs();
    const first = this.lostSince === null;
    this.lostSince ??= reason;
    if (!first && now - this.lastRaisedMs < (this.ports.repeatMs ?? 600_000)) return;
    this.lastRaisedMs = now;
    this.ports.logger.fatal(
      failure('DATA_DIR_LOST', reason),
      'data folder lost: events cannot be kept; raising the local alarm',
    );
    this.ports.raise(reason);
  }
}

function inode(file: string): number | null {
  try {
    return statSync(file).ino;
  } catch {
    return null;
  }
}
