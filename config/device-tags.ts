/**
 * Each event device id's tags, as rules (`when.tag`) and Node-RED's `village in` filter see
 * them: a device's own id, each of its Modbus inputs' event ids and each serial sensor's id
 * carry the device's tags. One lookup for both, so a rule and a flow never disagree on a tag.
 */
import { inputEventDeviceId } from './schema/devices.js';
import type { GatewayConfig } from './schema/gateway-config.js';

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
