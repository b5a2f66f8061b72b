/**
 * The siren benchmarks' village: a Waveshare IO 8CH on Modbus TCP (the simulator) with a panic
 * button on di1 and the rule `alarm.pressed -> pulse do1`; a press is timed from the input
 * changing to the siren coil's write arriving at the simulator.
 */
import { requireProfile } from '../../config/load-profile.js';
import { freePort } from '../brokers/free-port.js';
import { ModbusSimulator, type SimulatedUnit } from '../simulators/modbus-simulator.js';

export const POLL_MS = 50;
const SIREN_COIL = 0; // do1

export class SirenPanel {
  readonly sim = new ModbusSimulator();
  readonly unit: SimulatedUnit = this.sim.addUnit(1, requireProfile('waveshare-modbus-rtu-io-8ch', 'modbus'));

  async start(): Promise<this> {
    await this.sim.listenTcp(await freePort());
    return this;
  }

  /** The config's bus, panel and rule. */
  config(): { buses: unknown[]; devices: unknown[]; rules: unknown[] } {
    return {
      buses: [{ id: 'tcp', type: 'modbus-tcp', host: '127.0.0.1', port: this.sim.port, timeoutMs: 200 }],
      devices: [
        {
          id: 'panel',
          driver: 'modbus',
          bus: 'tcp',
          unitId: 1,
          profile: 'waveshare-modbus-rtu-io-8ch',
          pollMs: POLL_MS,
          inputs: { di1: { role: 'alarm-button', id: 'panic' } },
        },
      ],
      rules: [
        {
          id: 'panic',
          when: { type: 'alarm.pressed' },
          cooldownSec: 0,
          actions: [{ do: 'output', device: 'panel', output: 'do1', action: 'pulse', durationMs: 100 }],
        },
      ],
    };
  }

  /**
   * Presses the button and waits for the siren: ms from press to the coil write. `pressing` is
   * told the press time first (a county listener times from it too).
   */
  async pressForSiren(pressing: (atMs: number) => void = () => {}, limitMs = 5000): Promise<number> {
    const writesBefore = this.sim.writes.length;
    const siren = () => this.sim.writes.slice(writesBefore).find((w) => w.address === SIREN_COIL && w.value === true);
    const pressedAt = performance.now();
    pressing(pressedAt);
    this.unit.set('di1', true);
    const end = Date.now() + limitMs;
    while (!siren()) {
      if (Date.now() > end) throw new Error(`no siren write within ${limitMs} ms of the press`);
      await new Promise((r) => setImmediate(r));
    }
    return siren()!.atMs - pressedAt;
  }

  release(): void {
    this.unit.set('di1', false);
  }

  close(): Promise<void> {
    return this.sim.close();
  }
}
