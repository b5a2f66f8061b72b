/** The outbox's figures for `status`, health and the uplink, from its queues and ledgers (outbox.ts). */
import { PRIORITIES, type Priority } from '../../core/contracts/event.js';
import type { PriorityQueue } from './priority-queue.js';
import type { ShedLedger } from './shed-ledger.js';
import type { DiskReserve } from './disk-reserve.js';
import type { BacklogStats, OutboxStats } from './outbox-types.js';

export function outboxStats(
  queues: readonly PriorityQueue[],
  totalBytes: number,
  ledger: ShedLedger,
  reserve: DiskReserve,
  pending: number,
  now: number,
): OutboxStats {
  const backlog = Object.fromEntries(
    PRIORITIES.map((p, i) => [p, { count: queues[i]!.count, bytes: queues[i]!.bytes }]),
  ) as Record<Priority, BacklogStats>;
  const firsts = queues.map((q) => q.firstLiveCreatedMs()).filter((v): v is number => v !== null);
  return {
    backlog,
    total: { count: queues.reduce((a, q) => a + q.count, 0), bytes: totalBytes },
    oldestCreatedMs: firsts.length > 0 ? Math.min(...firsts) : null,
    oldestAgeMs: firsts.length > 0 ? Math.max(0, now - Math.min(...firsts)) : null,
    shed: ledger.totals(),
    pending: pending,
    segments: queues.reduce((a, q) => a + q.segmentCount, 0),
    diskReserve: { held: reserve.isHeld, bytes: reserve.size, releases: reserve.releases },
  };
}
