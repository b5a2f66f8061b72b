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
    const outputs = cfg.driver === 'modbus' ? cfg.outputs : {};
    // The county may name an output as the config does (its `id`, "strobe") or as the profile does ("relay3").
    const name = Object.hasOwn(outputs, output) ? output : Object.keys(outputs).find((n) => outputs[n]!.id === output);
    if (name === undefined)
      throw new GatewayError(
        'NOT_REMOTE',
        `"${device}" has no output "${output}" in its config: name one the config lists under outputs, by its key or its id (${describeOutputs(outputs)})`,
      );
    if (!outputs[name]!.remote)
      throw new GatewayError(
        'NOT_REMOTE',
        `output "${output}" of "${device}" is not declared remotely controllable (devices[id=${device}].outputs.${name}.remote: true)`,
      );
    await p.write({ deviceId: device, output: name, action, ...(durationMs !== undefined ? { durationMs } : {}) });
    return { device, output: name, action };
  },
});

function describeOutputs(outputs: Record<string, { id?: string | undefined; remote: boolean }>): string {
  const listed = Object.entries(outputs).map(
    ([n, o]) => `${n}${o.id !== undefined ? ` (${o.id})` : ''}${o.remote ? ', remote' : ''}`,
  );
  return listed.length > 0 ? listed.join('; ') : 'it lists none';
}
