/** The real peers many tests start the same way, each undone by the test's cleanup. */
import { freePort } from '../../scripts/brokers/free-port.js';
import { ModbusSimulator, type SimulatedUnit } from '../../scripts/simulators/modbus-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import { SerialDeviceSimulator } from '../../scripts/simulators/serial-device.js';
import { builtinProfile } from './modbus-rig.js';
import { IO_8CH } from './village-config.js';

type Cleanup = (fn: () => Promise<unknown> | unknown) => void;

/** modbus-serial's TCP server on a free port with one board (`profile`) as unit 1. */
export async function startBoard(
  cleanup: Cleanup,
  profile = IO_8CH,
): Promise<{ sim: ModbusSimulator; board: SimulatedUnit }> {
  const sim = new ModbusSimulator();
  const board = sim.addUnit(1, builtinProfile(profile));
  await sim.listenTcp(await freePort());
  cleanup(() => sim.close());
  return { sim, board };
}

/** A radio receiver's serial device (the simulator) at one end of a fresh socat pty pair; the agent's port is `pty.b`. */
export async function startSerialDevice(
  cleanup: Cleanup,
  name = 'rf',
): Promise<{ pty: PtyPair; device: SerialDeviceSimulator }> {
  const pty = await new PtyPair(name).start();
  cleanup(() => pty.dispose());
  const device = await new SerialDeviceSimulator(pty.a).open();
  cleanup(() => device.close());
  return { pty, device };
}
