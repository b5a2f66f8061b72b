/**
 * Plans the reads of a poll: points of the same table whose addresses are contiguous (or
 * share a register, for bitmaps) become one request, within the protocol's and the
 * device's quantity limits.
 */
import type { ModbusProfile, ModbusPoint, ModbusTable } from '../../config/schema/profile.js';
import { pointWidth } from './register-codec.js';
import { GatewayError } from '../../core/kernel/errors.js';

export interface ReadBlock {
  table: ModbusTable;
  address: number;
  quantity: number;
  points: { name: string; point: ModbusPoint; offset: number }[];
}

export function planReads(profile: ModbusProfile, names: readonly string[]): ReadBlock[] {
  const bits = (t: ModbusTable) => t === 'coil' || t === 'discrete';
  const byTable = new Map<ModbusTable, { name: string; point: ModbusPoint }[]>();
  for (const name of names) {
    const point = profile.inputs[name];
    if (!point) throw new GatewayError('CONFIG_INVALID', `profile ${profile.id} has no input "${name}"`);
    const list = byTable.get(point.table) ?? [];
    list.push({ name, point });
    byTable.set(point.table, list);
  }
  const blocks: ReadBlock[] = [];
  for (const [table, list] of byTable) {
    const max = bits(table) ? profile.limits.maxReadBits : profile.limits.maxReadRegisters;
    list.sort((a, b) => a.point.address - b.point.address);
    let cur: ReadBlock | null = null;
    for (const { name, point } of list) {
      const end = point.address + pointWidth(point);
      if (cur && point.address <= cur.address + cur.quantity && end - cur.address <= max) {
        cur.quantity = Math.max(cur.quantity, end - cur.address);
      } else {
        cur = { table, address: point.address, quantity: end - point.address, points: [] };
        blocks.push(cur);
      }
      cur.points.push({ name, point, offset: point.address - cur.address });
    }
    // Boards that only answer a fixed bit-read size (LC: 8) get exactly that.
    const fixed = profile.limits.bitReadQuantity;
    if (fixed && bits(table))
      for (const b of blocks.filter((x) => x.table === table)) b.quantity = Math.max(b.quantity, fixed);
  }
  return blocks;
}

/**
 * The read that tells whether a unit answers when none of its inputs is configured (a relay
 * board used only for its outputs: a siren, a strobe). Without one, such a device was reported
 * online without a single frame on the bus. Its first input's register when the profile has
 * inputs, else the register its first output writes (readable with the same table); its value
 * is not used. Null when the profile has neither.
 */
export function probeRead(profile: ModbusProfile): ReadBlock | null {
  const input = Object.keys(profile.inputs)[0];
  if (input !== undefined) return { ...planReads(profile, [input])[0]!, points: [] };
  const output = Object.values(profile.outputs)[0];
  if (!output) return null;
  const { table, address } = output.write;
  const quantity = table === 'coil' ? (profile.limits.bitReadQuantity ?? 1) : 1;
  return { table, address, quantity, points: [] };
}
