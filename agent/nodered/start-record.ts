/**
 * The Node-RED child's recent starts, kept on disk (`dataDir/node-red-starts.json`). A flow that
 * takes the whole agent down with it (it can kill its parent) would otherwise restart with a
 * fresh count every time and never reach safe mode: counted across agent restarts, five starts
 * within the window start the child in safe mode however they ended. Wall-clock times (the
 * monotonic clock restarts with the agent); a time in the future, after the clock was set back,
 * is forgotten. A file that cannot be read or written counts as no starts (logged).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage, foreignCode } from '../kernel/errors.js';

export class StartRecord {
  constructor(
    private readonly file: string,
    private readonly windowMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts within the window, this one not included. */
  recent(): number[] {
    let times: unknown;
    try {
      times = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if (foreignCode(err) !== 'ENOENT')
        this.logger.warn({ err: errorMessage(err), file: this.file }, 'Node-RED start record unreadable');
      return [];
    }
    const now = this.now();
    return Array.isArray(times)
      ? times.filter((t): t is number => typeof t === 'number' && now - t >= 0 && now - t < this.windowMs)
      : [];
  }

  /** Records a start now. */
  note(): void {
    const times = [...this.recent(), this.now()];
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(`${this.file}.tmp`, JSON.stringify(times));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.logger.warn({ err: errorMessage(err), file: this.file }, 'Node-RED start not recorded');
    }
  }
}
