/**
 * What the media sender must remember across a kill -9: per picture, the last chunk the broker
 * acknowledged (and the chunk size it was cut in), whether it was sent whole, and the bytes sent
 * today (the daily cap). One small JSON file, not the outbox's SQLite: the outbox's commits
 * are the alarms' path and synchronous on the event loop, while this file is written off the
 * loop (temp, fsync, rename, fsync of the folder), one write at a time, the latest state
 * winning. A save that lags a PUBACK only means a chunk sent twice after a crash: the file
 * never says more was acknowledged than was.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../core/kernel/clock.js';
import { failure } from '../../core/kernel/errors.js';
import { keepAside, writeFileDurablyAsync } from '../durable-file.js';

const fileSchema = z.object({
  v: z.literal(1),
  day: z.string(),
  dayBytes: z.number().int().min(0),
  pictures: z.record(
    z.string(),
    z.object({ acked: z.number().int().min(-1), chunkBytes: z.number().int().min(1), sent: z.boolean() }),
  ),
});
type StateFile = z.infer<typeof fileSchema>;

export class UploadState {
  private s: StateFile;
  private saving = false;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** A failed save, counted and logged with the agent's other storage failures (at most once a second). */
    private readonly notSaved?: (file: string, err: Error) => void,
  ) {
    this.s = { v: 1, day: this.today(), dayBytes: 0, pictures: {} };
    if (!existsSync(file)) return;
    try {
      this.s = fileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      // Kept aside for a technician; pictures then go again from their start (the county keeps the first copy).
      const aside = keepAside(file, clock.now);
      logger.warn(failure('STATE_UNREADABLE', err, { file, keptAs: aside }), 'media upload state unreadable');
    }
  }

  /** The last acknowledged chunk's index, -1 for none. */
  acked(id: string): number {
    return this.s.pictures[id]?.acked ?? -1;
  }

  isSent(id: string): boolean {
    return this.s.pictures[id]?.sent === true;
  }

  chunkBytesOf(id: string): number | null {
    return this.s.pictures[id]?.chunkBytes ?? null;
  }

  /** A picture is being cut into chunks of this size; pictures the store no longer has are forgotten. */
  begin(id: string, chunkBytes: number, stored: readonly string[]): void {
    const keep = new Set(stored);
    for (const k of Object.keys(this.s.pictures)) if (!keep.has(k)) delete this.s.pictures[k];
    this.s.pictures[id] ??= { acked: -1, chunkBytes, sent: false };
    this.save();
  }

  /** The picture goes again from its first chunk (the county asked for one it was sent). */
  again(id: string): void {
    if (!this.s.pictures[id]) return;
    delete this.s.pictures[id];
    this.save();
  }

  ack(id: string, i: number, done: boolean): void {
    const p = this.s.pictures[id];
    if (!p) return;
    p.acked = Math.max(p.acked, i);
    p.sent ||= done;
    this.save();
  }

  /** Whether `bytes` more fit today's cap (0: none). */
  mayspend(bytes: number, cap: number): boolean {
    this.rollDay();
    return cap === 0 || this.s.dayBytes + bytes <= cap;
  }

  spent(bytes: number): void {
    this.rollDay();
    this.s.dayBytes += bytes;
    this.save();
  }

  /** Bytes sent today (UTC). */
  get dayBytes(): number {
    this.rollDay();
    return this.s.dayBytes;
  }

  msToNextDay(): number {
    const now = this.clock.now();
    return 86_400_000 - (now % 86_400_000) + 1000;
  }

  /** Resolves once what is known now is on disk (tests, stop). */
  async flushed(): Promise<void> {
    while (this.saving || this.dirty) await new Promise((r) => setTimeout(r, 5));
  }

  private today(): string {
    return new Date(this.clock.now()).toISOString().slice(0, 10);
  }

  private rollDay(): void {
    const day = this.today();
    if (day === this.s.day) return;
    this.s.day = day;
    this.s.dayBytes = 0;
  }

  private save(): void {
    this.dirty = true;
    if (this.saving) return;
    this.saving = true;
    void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await writeFileDurablyAsync(this.file, JSON.stringify(this.s));
      }
    } catch (err) {
      // A full card fails every save, one a chunk: never a log line each.
      if (this.notSaved) this.notSaved(this.file, err as Error);
      else this.logger.warn(failure('STATE_NOT_SAVED', err, { file: this.file }), 'media upload state not saved');
    } finally {
      this.saving = false;
    }
  }
}
