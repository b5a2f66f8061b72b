import { GatewayError } from '../core/kernel/errors.js';

/**
 * What every driver answers to a write once stop() was called, whatever its kind: one code,
 * so a rule or a county command racing a shutdown (or a config reload) gets a clear answer
 * instead of a write that goes out anyway or waits for a line that is closing.
 */
export function driverStopped(deviceId: string): GatewayError {
  return new GatewayError('DRIVER_STOPPED', `device ${deviceId} is stopped`);
}
