/**
 * The per-gateway event sequence, strictly increasing across restarts and crashes.
 * We reserve blocks of numbers in a small sidecar file (fsynced) instead of writing on
 * every event: after a crash the unused rest of a block is skipped, never reused. The file
 * lives beside the outbox but apart from it, so a corrupt outbox moved aside keeps the count.
 *
 * The count never depends on the file alone: `floor` (the highest seq the outbox holds or
 * ever dropped) is taken at open, so a lost, damaged or stale file cannot make a seq come
 * twice for a stored event. And a reservation that cannot be written (a full card) does not
 * stop events: numbers go on in memory (events that could not be stored either were never
 * sent, so their numbers mean nothing after a crash), and the write is tried again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { keepAside, writeFileDurably } from './durable-file.js';

const fileSchema = z.strictObject({ reservedUpTo: z.int().min(0) });
const RETRY_MS = 1000;

export interface SeqFileProblem {
  problem: string;
  /** Where the bad file was kept (it is never silently overwritten). */
  keptAs: string | null;
}

export class SeqCounter {
  private current: number;
  private reservedUpTo: number;
  private retryAfter = -Infinity;
  /** The last reservation write that failed (null once one succeeds again). */
  writeError: string | null = null;

  private constructor(
    private readonly file: string,
    private readonly blockSize: number,
    start: number,
    /** Set when the file existed but was unreadable or not ours. */
    readonly fileProblem: SeqFileProblem | null,
  ) {
    this.current = start;
    this.reservedUpTo = start;
  }

  /** `floor` is the highest seq known elsewhere (e.g. the outbox), in case the file was lost. */
  static open(file: string, floor = 0, blockSize = 10_000, now: () => number = Date.now): SeqCounter {
    let stored = 0;
    let fileProblem: SeqFileProblem | null = null;
    if (existsSync(file)) {
      try {
        const parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (parsed.success) stored = parsed.data.reservedUpTo;
        else fileProblem = { problem: `not a seq file: ${parsed.error.issues[0]?.message ?? 'invalid'}`, keptAs: null };
      } catch (err) {
        fileProblem = { problem: (err as Error).message, keptAs: null };
      }
      if (fileProblem) fileProblem.keptAs = keepAside(file, now);
    }
    return new SeqCounter(file, blockSize, Math.max(stored, floor), fileProblem);
  }

  next(): number {
    if (this.current >= this.reservedUpTo && performance.now() >= this.retryAfter) this.reserve();
    this.current += 1;
    return this.current;
  }

  private reserve(): void {
    const upTo = this.current + this.blockSize;
    try {
      writeFileDurably(this.file, JSON.stringify({ reservedUpTo: upTo }));
      this.reservedUpTo = upTo;
      this.writeError = null;
    } catch (err) {
      this.writeError = (err as Error).message;
      this.retryAfter = performance.now() + RETRY_MS;
    }
  }

  get last(): number {
    return this.current;
  }
}
