/** Each event device id's tags (what `village in` filters on), as the rule engine sees them. */
import { inputEventDeviceId } from '../../config/schema/devices.js';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';

export function deviceTags(config: Pick<GatewayConfig, 'devices'>): Map<string, string[]> {
  const tags = new Map<string, string[]>();
  for (const d of config.devices) {
    tags.set(d.id, d.tags);
    if (d.driver === 'modbus')
      for (const [input, role] of Object.entries(d.inputs)) tags.set(inputEventDeviceId(d.id, input, role), d.tags);
    if (d.driver === 'serial') for (const s of Object.values(d.sensors)) tags.set(s.id, d.tags);
  }
  return tags;
}

/** `device/output` of every output a flow may drive (outputs.<name>.flowWritable: true). */
export function flowWritableOutputs(config: Pick<GatewayConfig, 'devices'>): Set<string> {
  const out = new Set<string>();
  for (const d of config.devices)
    if (d.driver === 'modbus')
      for (const [name, o] of Object.entries(d.outputs)) if (o.flowWritable) out.add(`${d.id}/${name}`);
  return out;
}
