/**
 * Every driver kind runs the driver contract (driver-contract.ts) against its real peer. A new
 * driver gets a harness in test/helpers/driver-harnesses.ts and a line here.
 */
import {
  cameraHarness,
  modbusRtuHarness,
  modbusTcpHarness,
  modemHarness,
  onvifHarness,
  serialHarness,
  syntheticHarness,
} from '../helpers/driver-harnesses.js';
import { driverContract } from './driver-contract.js';

driverContract('synthetic', syntheticHarness);
driverContract('modbus (TCP, modbus-serial server)', modbusTcpHarness);
driverContract('modbus (RTU, modbus-serial server on a socat pty)', modbusRtuHarness);
driverContract('serial (socat pty, serial device simulator)', serialHarness);
driverContract('modem (socat pty, modem simulator)', modemHarness);
driverContract('camera (Hikvision ISAPI simulator)', cameraHarness);
driverContract('camera (ONVIF PullPoint simulator)', onvifHarness);
