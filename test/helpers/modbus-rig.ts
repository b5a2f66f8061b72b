/** A gateway agent wired to simulated Modbus devices, capturing the events it emits. */
import type { GatewayEvent } from '../../core/contracts/event.js';
import { Agent } from '../../agent/agent.js';
import { requireProfile } from '../../config/load-profile.js';
import type { ModbusProfile } from '../../config/schema/profile.js';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import type { BusInput, DeviceInput, DeviceOf } from './config-input.js';
import { quietLogger } from './quiet-logger.js';
import type { Logger } from 'pino';

export const builtinProfile = (id: string): ModbusProfile => requireProfile(id, 'modbus');

/**
 * Config parts for house 7: a Waveshare relay board (D) on Modbus TCP at `port`, its panic button
 * on di2 with the "help is coming" LED on relay2; `device` adds to (or overrides) the board's entry.
 */
export function house7Board(
  port: number,
  device: Partial<DeviceOf<'modbus'>> = {},
  timeoutMs = 300,
): { buses: BusInput[]; devices: DeviceInput[] } {
  return {
    buses: [{ id: 'tcp', type: 'modbus-tcp', host: '127.0.0.1', port, timeoutMs }],
    devices: [
      {
        id: 'house-7-board',
        driver: 'modbus',
        bus: 'tcp',
        unitId: 1,
        profile: 'waveshare-modbus-rtu-relay-d',
        pollMs: 50,
        inputs: { di2: { role: 'alarm-button', id: 'house-7-panic', led: 'relay2' } },
        ...device,
      },
    ],
  };
}

export class AgentRig {
  readonly events: GatewayEvent[] = [];
  readonly agent: Agent;

  constructor(config: GatewayConfig, baseDir: string, logger: Logger = quietLogger()) {
    this.agent = new Agent({ config, configHash: 'rig', baseDir, logger });
    this.agent.observe.onEvent((e) => this.events.push(e));
  }

  of(deviceId: string, type?: string): GatewayEvent[] {
    return this.events.filter((e) => e.deviceId === deviceId && (type === undefined || e.type === type));
  }

  async waitFor(pred: (e: GatewayEvent) => boolean, ms = 5000, what = 'an event'): Promise<GatewayEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for ${what}; saw: ${this.events.map((e) => `${e.deviceId}:${e.type}`).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 10)); // the polling step
    }
  }
}
