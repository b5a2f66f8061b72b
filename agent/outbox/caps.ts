/**
 * The outbox's caps: what an event may displace when the store is full, and what is too old
 * to keep. By bytes: low is shed first, then normal, then high, oldest first; an event only
 * displaces its own or lower priorities, and critical is never shed (a reserve of
 * criticalReserveBytes is kept for it). By age, per priority, measured on the outbox's own
 * clock. Every event shed here is counted in the ledger; the caller's transaction persists it.
 */
import { PRIORITY_RANK, PRIORITIES, type Priority } from '../../core/contracts/event.js';
import type { OutboxConfig } from '../../config/schema/gateway-config.js';
import { OutboxFullError } from './outbox-errors.js';
import type { PriorityQueue } from './priority-queue.js';
import type { ShedLedger } from './shed-ledger.js';

export class OutboxCaps {
  constructor(
    /** The outbox's queues, one per priority rank (reloaded in place after a failed transaction). */
    private readonly queues: readonly PriorityQueue[],
    private readonly ledger: ShedLedger,
    private readonly config: OutboxConfig,
  ) {}

  /**
   * Makes room for an event of `bytes` by shedding what it may displace; null when there is
   * room, else the refusal (counted). Call within the transaction that inserts it.
   */
  makeRoom(priority: Priority, bytes: number): Error | null {
    const rank = PRIORITY_RANK[priority];
    const cfg = this.config;
    if (rank === 0) {
      // Critical: displace lower priorities if the store is full, but never refuse.
      this.shedDownTo(1, () => this.totalBytes() + bytes > cfg.maxBytes);
      return null;
    }
    const limit = cfg.maxBytes - Math.max(cfg.criticalReserveBytes, this.queues[0]!.bytes);
    const over = () => this.totalBytes() - this.queues[0]!.bytes + bytes > limit;
    this.shedDownTo(rank, over);
    if (!over()) return null;
    this.ledger.count(priority, 1, 'full');
    return new OutboxFullError(priority);
  }

  /** Sheds events older than their priority's age cap (`now`: the outbox's clock); returns how many. Within a transaction. */
  shedByAge(now: () => number): number {
    let removed = 0;
    for (const prio of ['high', 'normal', 'low'] as const) {
      const maxAge = this.config.maxAgeSec[prio];
      if (maxAge === undefined) continue;
      const n = this.queues[PRIORITY_RANK[prio]]!.shedOldest(() => true, now() - maxAge * 1000);
      if (n > 0) this.ledger.count(prio, n, 'age');
      removed += n;
    }
    return removed;
  }

  totalBytes(): number {
    return this.queues.reduce((a, q) => a + q.bytes, 0);
  }

  /** Sheds oldest events, lowest priority first, down to rank `to`, while `more()`. */
  private shedDownTo(to: number, more: () => boolean): void {
    for (let rank = PRIORITIES.length - 1; rank >= to && more(); rank--) {
      const n = this.queues[rank]!.shedOldest(more);
      if (n > 0) this.ledger.count(PRIORITIES[rank]!, n, 'full');
    }
  }
}
