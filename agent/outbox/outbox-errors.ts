/** The outbox's own errors: an event refused for lack of room, a write the store could not make. */
import type { Priority } from '../../core/contracts/event.js';
import { GatewayError, errorMessage, foreignCode } from '../../core/kernel/errors.js';

export class OutboxFullError extends GatewayError {
  constructor(readonly priority: Priority) {
    super('OUTBOX_FULL', `outbox full: ${priority} event refused (no room without displacing higher priorities)`, {
      retryable: true,
    });
  }
}

/** A write that failed in the store; `cause` keeps SQLite's or the file system's error (e.g. SQLITE_FULL). */
export class StorageError extends GatewayError {
  readonly storeCode: string | undefined;
  constructor(op: string, cause: unknown) {
    const storeCode = foreignCode(cause);
    super('STORAGE_FAILED', `outbox ${op} failed: ${storeCode ? `${storeCode}: ` : ''}${errorMessage(cause)}`, {
      cause,
    });
    this.storeCode = storeCode;
  }
}

/** An event refused because the disk is full (its reserve already went to alarms). */
export class DiskFullError extends GatewayError {
  constructor(readonly priority: Priority) {
    super('DISK_FULL', `disk full: ${priority} event not stored (the disk reserve is kept for alarms)`);
  }
}
