/**
 * The drain's deletes of acknowledged rows, in groups (at most 25 ms or 2,000 rows old): one
 * commit per group instead of one per PUBACK. A crash in between only re-sends events the
 * county already has, with the same ids. A store that cannot write (reported by the outbox)
 * keeps the rows acknowledged; the group is tried again a second later.
 */
import type { OutboxReader, OutboxRow } from '../../core/contracts/outbox-store.js';

const GROUP_MS = 25;
const GROUP_ROWS = 2000;
const RETRY_MS = 1000;

export class AckedDeletes {
  private acked: OutboxRow[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** `deleted`: rows whose delete committed (the drain stops holding them in flight only then). */
  constructor(
    private readonly outbox: OutboxReader,
    private readonly deleted: (rows: readonly OutboxRow[]) => void,
  ) {}

  add(rows: readonly OutboxRow[]): void {
    for (const r of rows) this.acked.push(r);
    if (this.acked.length >= GROUP_ROWS) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), GROUP_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.acked;
    if (rows.length === 0) return;
    this.acked = [];
    if (this.outbox.delete(rows) === null) {
      this.acked = rows.concat(this.acked);
      this.timer = setTimeout(() => this.flush(), RETRY_MS);
      return;
    }
    this.deleted(rows);
  }
}
