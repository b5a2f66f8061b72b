/**
 * When the watermarks that deliveries moved reach the disk. A delete after the county's PUBACK
 * moves its segment's watermark at once in memory (stats, `waiting` and reads see the rows gone),
 * but the catalog row is written only with the first commit once the oldest unwritten move is
 * LATE_MS old or LATE_ROWS rows have moved (a telemetry group, a sweep, the drain's next delete),
 * or by a commit of its own (not synced: wal-sync.ts) when no other comes. At village rates each reading's
 * delete used to be a commit of its own: as many WAL pages, at the card, as the readings
 * themselves (disk.bytes_per_day). A crash before the write only re-sends events the county
 * already has, with the same ids, as a lost delete always did; LATE_ROWS bounds how many when a
 * backlog drains (hundreds a second: 30 s of it would be thousands of events on a cellular link).
 */
export const LATE_MS = 30_000;
export const LATE_ROWS = 100;

export class LateWatermarks {
  private since: number | null = null;
  private rows = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly monoMs: () => number,
    /** Commits the moved watermarks (unsynced); called when none was written LATE_MS after a delete. */
    private readonly commit: () => void,
    private readonly lateMs = LATE_MS,
  ) {}

  /** A delete moved watermarks over `rows` rows in memory. */
  moved(rows: number): void {
    this.rows += rows;
    if (this.since !== null) return;
    this.since = this.monoMs();
    this.timer = setTimeout(() => this.commit(), this.lateMs);
    this.timer.unref(); // the outbox's close() writes them; no timer of ours keeps a process alive
  }

  /** Whether the commit being made should write them. */
  get due(): boolean {
    return this.since !== null && (this.rows >= LATE_ROWS || this.monoMs() - this.since >= this.lateMs);
  }

  /** They were written, or a rollback reloaded the catalog (the moves are gone from memory too). */
  settled(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.since = null;
    this.rows = 0;
  }
}
