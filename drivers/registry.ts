/** The composition root's map from a device's `driver` to its implementation. */
import type { Driver, DriverContext } from '../agent/contracts/driver.js';
import { GatewayError } from '../agent/contracts/driver.js';
import type { DeviceConfig } from '../config/schema/devices.js';
import { SyntheticDriver } from './synthetic/synthetic-driver.js';

export function createDriver(device: DeviceConfig, ctx: Omit<DriverContext<DeviceConfig>, 'config'>): Driver {
  switch (device.driver) {
    case 'synthetic':
      return new SyntheticDriver({ ...ctx, config: device });
    case 'modbus':
    case 'serial':
      throw new GatewayError('DRIVER_UNAVAILABLE', `device "${device.id}": the ${device.driver} driver is not in this build yet (config accepted, cannot run)`);
  }
}
