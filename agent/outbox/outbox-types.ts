/** What the outbox (outbox.ts) is given and tells: its options, its stats, a storage failure. */
import type { Priority } from '../../core/contracts/event.js';
import type { OutboxConfig } from '../../config/schema/gateway-config.js';
import type { Clock } from '../../core/kernel/clock.js';
import type { WalSyncFs } from './wal-sync.js';

export interface BacklogStats {
  count: number;
  bytes: number;
}

export interface OutboxStats {
  backlog: Record<Priority, BacklogStats>;
  total: BacklogStats;
  oldestCreatedMs: number | null;
  /** Age of the oldest event on the outbox's own clock (immune to wall-clock jumps). */
  oldestAgeMs: number | null;
  shed: Record<Priority, number>;
  pending: number;
  segments: number;
  diskReserve: { held: boolean; bytes: number; releases: number };
}

export interface OutboxOptions {
  dir: string;
  config: OutboxConfig;
  /** The agent's clock; ages are measured on its monotonic side (see OutboxClock). */
  clock?: Clock;
  /** Rows per segment table (tests use small ones to cross segment boundaries). */
  segmentRows?: number;
  /**
   * Bytes kept on disk for urgent events (see disk-reserve.ts); 0 (the default here) keeps none. The agent
   * passes `outbox.diskReserveBytes`.
   */
  diskReserveBytes?: number;
  /** How late deliveries' watermarks may reach the disk (late-watermarks.ts); tests shorten it. */
  lateWatermarkMs?: number;
  /** The log sync's file-system edge (wal-sync.ts); a fault test makes it fail like a dying card. */
  walFs?: WalSyncFs;
}

/** A write the store could not make (disk full, read-only, vanished): reported, never thrown past the outbox. */
export interface StorageFailure {
  op: 'commit' | 'delete' | 'sweep';
  error: Error;
  /** Events the failed write concerned. */
  events: number;
}
