/**
 * What the crash-loop policy (crash-loop.ts) remembers across agent restarts, kept on disk
 * (`dataDir/node-red-crash-loop.json`): the child's recent starts, abnormal exits and heartbeat
 * kills, and whether it is in safe mode. A flow that takes the whole agent down with it would
 * otherwise restart with a fresh count every time, and a restarted agent would leave safe mode
 * without anyone fixing the flow. Wall-clock times (the monotonic clock restarts with the agent);
 * a time in the future, after the clock was set back, is forgotten. A file that cannot be read
 * counts as nothing recorded, one that cannot be written keeps the record in memory (both logged).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { foreignCode, failure } from '../../core/kernel/errors.js';

export type CrashLoopReason = 'heartbeat-kills' | 'exits' | 'starts';
/** Who left a crash loop's safe mode: the county's command, the technician's CLI, or a flows push. */
export type SafeModeLeaver = 'command' | 'cli' | 'push';

export interface SafeModeRecord {
  /** Wall-clock ms when it was entered. */
  since: number;
  reason: CrashLoopReason;
  count: number;
}

export interface CrashRecord {
  starts: number[];
  exits: number[];
  heartbeatKills: number[];
  safeMode: SafeModeRecord | null;
}

const REASONS: readonly string[] = ['heartbeat-kills', 'exits', 'starts'];
const empty = (): CrashRecord => ({ starts: [], exits: [], heartbeatKills: [], safeMode: null });

export class StartRecord {
  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    readonly now: () => number = Date.now,
  ) {}

  /** The record, each list cut to the times within `windowMs` of now. */
  read(windowMs: number): CrashRecord {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if (foreignCode(err) !== 'ENOENT')
        this.logger.warn(failure('STATE_UNREADABLE', err, { file: this.file }), 'Node-RED crash record unreadable');
      return empty();
    }
    if (typeof raw !== 'object' || raw === null) return empty();
    const r = raw as Record<string, unknown>;
    const now = this.now();
    const times = (v: unknown): number[] =>
      Array.isArray(v)
        ? v.filter((t): t is number => typeof t === 'number' && now - t >= 0 && now - t < windowMs).slice(-100)
        : [];
    const s = r['safeMode'] as Record<string, unknown> | null | undefined;
    const safeMode =
      s && typeof s === 'object' && typeof s['since'] === 'number' && REASONS.includes(s['reason'] as string)
        ? { since: s['since'], reason: s['reason'] as CrashLoopReason, count: Number(s['count']) || 0 }
        : null;
    return {
      starts: times(r['starts']),
      exits: times(r['exits']),
      heartbeatKills: times(r['heartbeatKills']),
      safeMode,
    };
  }

  write(rec: CrashRecord): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(`${this.file}.tmp`, JSON.stringify(rec));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.logger.warn(failure('STATE_NOT_SAVED', err, { file: this.file }), 'Node-RED crash record not written');
    }
  }
}
