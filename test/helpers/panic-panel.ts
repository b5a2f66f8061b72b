/**
 * The village, simulated: a Waveshare Modbus RTU IO 8CH on Modbus TCP with two panic
 * buttons (di1 with its "help is coming" LED on do8, di2 without), a siren on do7, and the
 * rule `alarm.pressed -> pulse the siren + alert`. Residents press buttons; the panel watches
 * the simulator (not the agent) to know whether the rule fired, so it works the same for an
 * in-process agent and for a CLI agent that may be killed at any moment.
 */
import { freePort } from '../../scripts/brokers/free-port.js';
import { ModbusSimulator, type SimulatedUnit } from '../../scripts/simulators/modbus-simulator.js';
import type { BusInput, DeviceInput, RuleInput } from './config-input.js';
import { builtinProfile } from './modbus-rig.js';
import { IO_8CH, ioBoard, panicRule, tcpBus } from './village-config.js';

export const SIREN_COIL = 6; // do7
export const LED_COIL = 7; // do8
export type Button = 'di1' | 'di2';

export class PanicPanel {
  readonly sim = new ModbusSimulator();
  readonly board: SimulatedUnit = this.sim.addUnit(1, builtinProfile(IO_8CH));
  /** Presses made, and presses the rule answered with the siren. */
  presses = 0;
  answered = 0;
  private pressing: Promise<void> | null = null;
  private stopPressing = false;

  async start(): Promise<this> {
    await this.sim.listenTcp(await freePort());
    return this;
  }

  get port(): number {
    return this.sim.port;
  }

  /** Siren pulses started by the rule (coil on). */
  get sirens(): number {
    return this.sim.writes.filter((w) => w.address === SIREN_COIL && w.value === true).length;
  }

  /** "Help is coming" LEDs lit (coil on), i.e. county acknowledgements that reached the button. */
  get ledsLit(): number {
    return this.sim.writes.filter((w) => w.address === LED_COIL && w.value === true).length;
  }

  /** Config parts for the agent: the bus, the board and the rule (cooldown 0: every press fires). */
  config(pollMs = 30): { buses: BusInput[]; devices: DeviceInput[]; rules: RuleInput[] } {
    return {
      buses: [tcpBus(this.port, 300)],
      devices: [
        ioBoard({
          pollMs,
          inputs: {
            di1: { role: 'alarm-button', id: 'house-1-panic', led: 'do8' },
            di2: { role: 'alarm-button', id: 'house-2-panic' },
          },
          outputs: { do7: { id: 'siren' }, do8: { id: 'house-1-led' } },
        }),
      ],
      rules: [panicRule({ pulseMs: 200 })],
    };
  }

  /**
   * Waits until the agent has polled the board `n` more times (false if it did not within `ms`, or `alive` says
   * it is gone).
   */
  async polled(n: number, ms: number, alive: () => boolean = () => true): Promise<boolean> {
    const target = this.board.reads + n;
    const end = Date.now() + ms;
    while (this.board.reads < target) {
      if (Date.now() > end || !alive()) return false;
      await new Promise((r) => setTimeout(r, 5)); // the polling step
    }
    return true;
  }

  /**
   * Holds a button until the rule sounds the siren (or `ms` passed, or `alive` says the agent
   * is gone), then releases it and waits for a few polls so the release is seen. Returns
   * whether the siren sounded.
   */
  async press(button: Button, ms = 3000, alive: () => boolean = () => true): Promise<boolean> {
    const before = this.sirens;
    this.presses += 1;
    this.board.set(button, true);
    const end = Date.now() + ms;
    while (this.sirens === before && Date.now() < end && alive()) await new Promise((r) => setTimeout(r, 5)); // the polling step
    this.board.set(button, false);
    await this.polled(3, ms, alive);
    const answered = this.sirens > before;
    if (answered) this.answered += 1;
    return answered;
  }

  /** Residents pressing both buttons in turn, at random intervals, until stopResidents(). */
  startResidents(gapMs: [number, number] = [50, 300]): void {
    this.stopPressing = false;
    this.pressing = (async () => {
      for (let i = 0; !this.stopPressing; i++) {
        await this.press(i % 2 === 0 ? 'di1' : 'di2', 1500);
        await new Promise((r) => setTimeout(r, gapMs[0] + Math.random() * (gapMs[1] - gapMs[0]))); // pacing: residents pause between presses
      }
    })();
  }

  async stopResidents(): Promise<void> {
    this.stopPressing = true;
    await this.pressing;
    this.pressing = null;
  }

  async close(): Promise<void> {
    await this.stopResidents();
    await this.sim.close();
  }
}
