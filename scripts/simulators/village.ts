/**
 * A simulated village for the demo: the Modbus boards of config/demo.yaml on a simulator,
 * and residents who open the storehouse door, walk past its camera and press panic buttons.
 */
import { requireProfile } from '../../config/load-profile.js';
import { ModbusSimulator } from './modbus-simulator.js';

const profile = (id: string) => requireProfile(id, 'modbus');

export class SimulatedVillage {
  readonly sim = new ModbusSimulator();
  readonly storehouse = this.sim.addUnit(1, profile('waveshare-modbus-rtu-relay-d'));
  readonly homes = this.sim.addUnit(2, profile('waveshare-modbus-rtu-io-8ch'));
  presses = 0;

  /** Siren sounds: the storehouse board's own flash command on relay 1. */
  get sirens(): number {
    return this.sim.writes.filter((w) => w.unitId === 1 && w.address === 0x0200).length;
  }

  /** "Help is coming" LEDs lit on the panic panel. */
  get ledsLit(): number {
    return this.sim.writes.filter((w) => w.unitId === 2 && w.fc === 5 && w.value === true && w.address <= 2).length;
  }
  doorOpenings = 0;
  private timers: NodeJS.Timeout[] = [];

  async start(port: number): Promise<this> {
    this.storehouse.set('di1', true); // the NC door contact is closed
    await this.sim.listenTcp(port);
    return this;
  }

  /** Residents at work: a door every 2 s, camera motion every 3 s, a panic press every 1.1 s. */
  live(): void {
    this.every(2000, 800, () => {
      this.storehouse.set('di1', false);
      this.doorOpenings += 1;
      return () => this.storehouse.set('di1', true);
    });
    this.every(3000, 600, () => {
      this.storehouse.set('di2', true);
      return () => this.storehouse.set('di2', false);
    });
    const buttons = ['di1', 'di2', 'di3'];
    this.every(1100, 300, () => {
      const b = buttons[this.presses % buttons.length]!;
      this.homes.set(b, true);
      this.presses += 1;
      return () => this.homes.set(b, false);
    });
  }

  private every(periodMs: number, holdMs: number, act: () => () => void): void {
    this.timers.push(
      setInterval(() => {
        const release = act();
        this.timers.push(setTimeout(release, holdMs));
      }, periodMs),
    );
  }

  quiet(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
  }

  async stop(): Promise<void> {
    this.quiet();
    await this.sim.close();
  }
}
