import type { DriverContext } from '../core/contracts/driver.js';
import type { EventInput } from '../core/contracts/event.js';
import { isReportedRefusal } from '../core/contracts/outbox-store.js';
import { failure } from '../core/kernel/errors.js';

/**
 * Emits from a driver's own timers and callbacks, where nobody awaits the acknowledgement:
 * an event that could not be stored is logged (never an unhandled rejection), unless the
 * agent counts and logs it already (a full disk: at most once a second; a payload that does
 * not match its catalogue entry: once a minute a type).
 */
export function emitLogged<T>(ctx: DriverContext<T>, ev: EventInput): void {
  ctx.emit(ev).catch((err: Error) => {
    if (!isReportedRefusal(err))
      ctx.logger.error(failure('STORAGE_FAILED', err, { type: ev.type, deviceId: ev.deviceId }), 'event not stored');
  });
}
