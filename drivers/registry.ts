/** The composition root's map from a device's `driver` to its implementation. */
import type { Driver, DriverContext } from '../agent/contracts/driver.js';
import { GatewayError } from '../agent/contracts/driver.js';
import type { DeviceConfig } from '../config/schema/devices.js';
import type { DeviceProfile } from '../config/schema/profile.js';
import type { ModbusBus } from './modbus/modbus-bus.js';
import { ModbusDeviceDriver } from './modbus/modbus-device-driver.js';
import { SyntheticDriver } from './synthetic/synthetic-driver.js';
import { SerialDeviceDriver } from './serial/serial-device-driver.js';
import { GsmModemDriver } from './modem/gsm-modem-driver.js';

export interface TransportDeps {
  buses: Map<string, ModbusBus>;
  profiles: Map<string, DeviceProfile>;
}

export function createDriver(device: DeviceConfig, ctx: Omit<DriverContext<DeviceConfig>, 'config'>, deps: TransportDeps): Driver {
  switch (device.driver) {
    case 'synthetic':
      return new SyntheticDriver({ ...ctx, config: device });
    case 'modbus': {
      const bus = deps.buses.get(device.bus);
      const profile = deps.profiles.get(device.id);
      if (!bus || profile?.transport !== 'modbus') throw new GatewayError('DRIVER_UNAVAILABLE', `device "${device.id}": bus or profile missing`);
      return new ModbusDeviceDriver({ ...ctx, config: device }, { bus, profile });
    }
    case 'serial': {
      const profile = deps.profiles.get(device.id);
      if (profile?.transport !== 'serial') throw new GatewayError('DRIVER_UNAVAILABLE', `device "${device.id}": profile missing`);
      return new SerialDeviceDriver({ ...ctx, config: device }, profile);
    }
    case 'modem': {
      const profile = deps.profiles.get(device.id);
      if (profile?.transport !== 'modem') throw new GatewayError('DRIVER_UNAVAILABLE', `device "${device.id}": profile missing`);
      return new GsmModemDriver({ ...ctx, config: device }, profile);
    }
  }
}
