/**
 * Pure decoding from Modbus words and bits to point values: no I/O, so every byte and word
 * order is tested on fixtures.
 */
import type { ModbusPoint } from '../../config/schema/profile.js';

const swapBytes = (w: number) => ((w & 0xff) << 8) | (w >> 8);

/** Registers a point spans. */
export const pointWidth = (p: Pick<ModbusPoint, 'table' | 'type'>): number =>
  p.table === 'coil' || p.table === 'discrete'
    ? 1
    : p.type === 'uint32' || p.type === 'int32' || p.type === 'float32'
      ? 2
      : 1;

/** The value of a register point from its words (already sliced to the point's address). */
export function decodeRegisters(p: ModbusPoint, words: readonly number[]): number | boolean {
  const w = words.map((x) => (p.byteOrder === 'little' ? swapBytes(x) : x));
  if (p.bit !== undefined) return ((w[0]! >> p.bit) & 1) === 1;
  if (p.type === 'bool') return w[0]! !== 0;
  const [hi, lo] = p.wordOrder === 'little' ? [w[1]!, w[0]!] : [w[0]!, w[1]!];
  const buf = Buffer.alloc(4);
  let v: number;
  switch (p.type) {
    case 'uint16':
      v = w[0]!;
      break;
    case 'int16':
      v = (w[0]! << 16) >> 16;
      break;
    case 'uint32':
      v = hi * 0x10000 + lo;
      break;
    case 'int32':
      buf.writeUInt16BE(hi, 0);
      buf.writeUInt16BE(lo, 2);
      v = buf.readInt32BE(0);
      break;
    case 'float32':
      buf.writeUInt16BE(hi, 0);
      buf.writeUInt16BE(lo, 2);
      v = buf.readFloatBE(0);
      break;
  }
  return p.scale === 1 ? v : v * p.scale;
}

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), for RTU frames; sent low byte first. */
export function crc16modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** A whole RTU frame (unit, PDU, CRC low byte first). */
export function rtuFrame(unitId: number, pdu: readonly number[]): Buffer {
  const body = Buffer.from([unitId, ...pdu]);
  const crc = crc16modbus(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}
