/** `output {device, output, action, durationMs?}`: the county drives an output, only one declared `remote: true`. */
import { z } from 'zod';
import type { OutputCommand } from '../../core/contracts/driver.js';
import { GatewayError } from '../../core/kernel/errors.js';
import type { DeviceConfig } from '../../config/schema/devices.js';
import type { CommandHandler } from '../uplink/commands.js';

export interface OutputPorts {
  devices: readonly DeviceConfig[];
  write(command: OutputCommand): Promise<void>;
}

const args = z.strictObject({
  device: z.string().min(1),
  output: z.string().min(1),
  action: z.enum(['on', 'off', 'pulse']),
  durationMs: z.int().min(1).max(3_600_000).optional(),
});

export const outputCommand = (p: OutputPorts): CommandHandler<typeof args> => ({
  args,
  actuation: true,
  run: async ({ device, output, action, durationMs }) => {
    const cfg = p.devices.find((d) => d.id === device);
    if (!cfg) throw new GatewayError('UNKNOWN_DEVICE', `no device "${device}"`);
    const declared = cfg.driver === 'modbus' ? cfg.outputs[output] : undefined;
    if (!declared?.remote)
      throw new GatewayError(
        'NOT_REMOTE',
        `output "${output}" of "${device}" is not declared remotely controllable (outputs.${output}.remote: true)`,
      );
    await p.write({ deviceId: device, output, action, ...(durationMs !== undefined ? { durationMs } : {}) });
    return { device, output, action };
  },
});
