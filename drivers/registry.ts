/**
 * The composition root's map from a device's `driver` to its implementation. Driver code is
 * loaded only for the kinds a config uses: a gateway without Modbus never loads
 * modbus-serial, one without serial devices never loads serialport's native binding.
 */
import type { Driver, DriverContext, SharedBus } from '../core/contracts/driver.js';
import type { SmsSender } from '../core/contracts/sms.js';
import { GatewayError } from '../core/kernel/errors.js';
import type { DeviceConfig } from '../config/schema/devices.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { SecretRef } from '../config/schema/fields.js';
import type { DeviceProfile } from '../config/schema/profile.js';
import type { Logger } from 'pino';
import type { ModbusBus } from './modbus/modbus-bus.js';

export type DriverBaseContext = Omit<DriverContext<DeviceConfig>, 'config'>;

export interface CreatedDrivers {
  drivers: Map<string, Driver>;
  buses: Map<string, SharedBus>;
  /** The devices that can send SMS (modems), by device id: what the local alarms may send through. */
  smsSenders: Map<string, SmsSender>;
}

export async function createDrivers(
  config: GatewayConfig,
  profiles: Map<string, DeviceProfile>,
  ctxFor: (device: DeviceConfig) => DriverBaseContext,
  busLogger: (busId: string) => Logger,
  /** Reads a secret the config names (a camera's password); the caller knows the config's folder. */
  secret: (ref: SecretRef) => string = (ref) => {
    if (typeof ref === 'string') return ref;
    throw new GatewayError('SECRET_UNAVAILABLE', 'no secret resolver given to createDrivers');
  },
): Promise<CreatedDrivers> {
  const kinds = new Set(config.devices.map((d) => d.driver));
  const synthetic = kinds.has('synthetic') ? await import('./synthetic/synthetic-driver.js') : null;
  const modbus = kinds.has('modbus')
    ? { ...(await import('./modbus/modbus-bus.js')), ...(await import('./modbus/modbus-device-driver.js')) }
    : null;
  const serial = kinds.has('serial') ? await import('./serial/serial-device-driver.js') : null;
  const modem = kinds.has('modem') ? await import('./modem/gsm-modem-driver.js') : null;
  const camera = kinds.has('camera') ? await import('./camera/camera-driver.js') : null;

  const buses = new Map<string, ModbusBus>();
  if (modbus) {
    for (const bus of config.buses) {
      if (config.devices.some((d) => d.driver === 'modbus' && d.bus === bus.id))
        buses.set(bus.id, new modbus.ModbusBus(bus, busLogger(bus.id)));
    }
  }
  const drivers = new Map<string, Driver>();
  const smsSenders = new Map<string, SmsSender>();
  for (const device of config.devices) {
    const ctx = ctxFor(device);
    const profile = profiles.get(device.id);
    const missing = (what: string) => new GatewayError('DRIVER_UNAVAILABLE', `device "${device.id}": ${what} missing`);
    switch (device.driver) {
      case 'synthetic':
        drivers.set(device.id, new synthetic!.SyntheticDriver({ ...ctx, config: device }));
        break;
      case 'modbus': {
        const bus = buses.get(device.bus);
        if (!bus || profile?.transport !== 'modbus') throw missing('bus or profile');
        drivers.set(device.id, new modbus!.ModbusDeviceDriver({ ...ctx, config: device }, { bus, profile }));
        break;
      }
      case 'serial':
        if (profile?.transport !== 'serial') throw missing('profile');
        drivers.set(device.id, new serial!.SerialDeviceDriver({ ...ctx, config: device }, profile));
        break;
      case 'modem': {
        if (profile?.transport !== 'modem') throw missing('profile');
        const driver = new modem!.GsmModemDriver({ ...ctx, config: device }, profile);
        drivers.set(device.id, driver);
        smsSenders.set(device.id, driver);
        break;
      }
      case 'camera':
        if (profile?.transport !== 'camera') throw missing('profile');
        drivers.set(device.id, new camera!.CameraDriver({ ...ctx, config: device }, profile, secret(device.password)));
        break;
    }
  }
  return { drivers, buses, smsSenders };
}
