/**
 * The per-gateway event sequence, strictly increasing across restarts and crashes.
 * We reserve blocks of numbers in a small sidecar file (fsynced) instead of writing on
 * every event: after a crash the unused rest of a block is skipped, never reused. The file
 * lives beside the outbox but apart from it, so a corrupt outbox moved aside keeps the count.
 */
import { readFileSync } from 'node:fs';
import { writeFileDurably } from './durable-file.js';

export class SeqCounter {
  private current: number;
  private reservedUpTo: number;

  private constructor(
    private readonly file: string,
    private readonly blockSize: number,
    start: number,
  ) {
    this.current = start;
    this.reservedUpTo = start;
  }

  /** `floor` is the highest seq known elsewhere (e.g. the outbox), in case the file was lost. */
  static open(file: string, floor = 0, blockSize = 10_000): SeqCounter {
    let stored = 0;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { reservedUpTo?: unknown };
      if (typeof parsed.reservedUpTo === 'number' && Number.isSafeInteger(parsed.reservedUpTo)) stored = parsed.reservedUpTo;
    } catch {
      // missing or unreadable: fall back to the floor
    }
    return new SeqCounter(file, blockSize, Math.max(stored, floor));
  }

  next(): number {
    if (this.current >= this.reservedUpTo) {
      this.reservedUpTo = this.current + this.blockSize;
      writeFileDurably(this.file, JSON.stringify({ reservedUpTo: this.reservedUpTo }));
    }
    this.current += 1;
    return this.current;
  }

  get last(): number {
    return this.current;
  }
}
