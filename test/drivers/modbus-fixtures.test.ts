/**
 * Golden fixtures: the frames our profiles put on the wire, and register decoding in every
 * byte and word order. Frames are from ../shared/devices/README.md (sources cited there).
 */
import { describe, expect, it } from 'vitest';
import { requireProfile } from '../../config/load-profile.js';
import type { ModbusProfile as DeviceProfile, ModbusPoint } from '../../config/schema/profile.js';
import { planOutput, readPdu, writePdu } from '../../drivers/modbus/output-plan.js';
import { planReads } from '../../drivers/modbus/read-plan.js';
import { crc16modbus, decodeRegisters, rtuFrame } from '../../drivers/modbus/register-codec.js';

const hex = (b: Buffer) => b.toString('hex').toUpperCase().match(/../g)!.join(' ');
const profile = (id: string): DeviceProfile => requireProfile(id, 'modbus');
const point = (over: Partial<ModbusPoint>): ModbusPoint => ({
  table: 'holding',
  address: 0,
  type: 'uint16',
  wordOrder: 'big',
  byteOrder: 'big',
  scale: 1,
  ...over,
});

describe('CRC-16/MODBUS', () => {
  it('matches the check value and a known frame', () => {
    expect(crc16modbus(Buffer.from('123456789'))).toBe(0x4b37);
    expect(hex(rtuFrame(1, [0x05, 0x00, 0x00, 0xff, 0x00]))).toBe('01 05 00 00 FF 00 8C 3A');
    expect(hex(rtuFrame(1, [0x82, 0x02]))).toBe('01 82 02 C1 61'); // exception: illegal address on FC02
    expect(hex(rtuFrame(1, [0x83, 0x0b]))).toBe('01 83 0B 00 F7');
  });
});

describe('profile frames', () => {
  it('Waveshare relay (D): read the inputs, relay on, flash 700 ms', () => {
    const p = profile('waveshare-modbus-rtu-relay-d');
    const [block] = planReads(p, Object.keys(p.inputs));
    expect(hex(rtuFrame(1, readPdu(block!.table, block!.address, block!.quantity)))).toBe('01 02 00 00 00 08 79 CC');
    const on = planOutput(p, { deviceId: 'd', output: 'relay1', action: 'on' });
    expect(on.kind === 'write' && hex(rtuFrame(1, writePdu(on.op)))).toBe('01 05 00 00 FF 00 8C 3A');
    const flash = planOutput(p, { deviceId: 'd', output: 'relay1', action: 'pulse', durationMs: 700 });
    expect(flash.kind === 'write' && hex(rtuFrame(1, writePdu(flash.op)))).toBe('01 05 02 00 00 07 8D B0');
  });

  it('Waveshare IO 8CH has no native flash: the gateway times the pulse', () => {
    const p = profile('waveshare-modbus-rtu-io-8ch');
    expect(planOutput(p, { deviceId: 'd', output: 'do1', action: 'pulse', durationMs: 500 })).toEqual({
      kind: 'timed',
      on: { fc: 5, address: 0, value: 0xff00 },
      off: { fc: 5, address: 0, value: 0 },
      durationMs: 500,
    });
  });

  it('Eletechsup N4DIH32 reads two bitmap registers with FC03, and R4DIF08 eight', () => {
    const n = profile('eletechsup-n4dih32');
    const blocks = planReads(n, Object.keys(n.inputs));
    expect(blocks).toHaveLength(1);
    expect(hex(rtuFrame(1, readPdu(blocks[0]!.table, blocks[0]!.address, blocks[0]!.quantity)))).toBe(
      '01 03 00 C0 00 02 C4 37',
    );
    const r = profile('eletechsup-r4dif08');
    const [rb] = planReads(r, Object.keys(r.inputs));
    expect(hex(rtuFrame(1, readPdu(rb!.table, rb!.address, rb!.quantity)))).toBe('01 03 00 81 00 08 14 24');
  });

  it('Eletechsup R413E16 writes commands into holding registers', () => {
    const p = profile('eletechsup-r413e16');
    const frame = (action: 'on' | 'off') => {
      const plan = planOutput(p, { deviceId: 'd', output: 'out1', action });
      return plan.kind === 'write' ? hex(rtuFrame(1, writePdu(plan.op))) : '';
    };
    expect(frame('on')).toBe('01 06 00 01 01 00 D9 9A');
    expect(frame('off')).toBe('01 06 00 01 02 00 D9 6A');
  });

  it('LC-Technology boards answer at 255 and only to 8-input reads', () => {
    const p = profile('lc-technology-relay-8ch');
    expect(p.defaults.unitId).toBe(255);
    const [block] = planReads(p, ['in1', 'in3']);
    expect(hex(rtuFrame(255, readPdu(block!.table, block!.address, block!.quantity)))).toBe('FF 02 00 00 00 08 6C 12');
    const on = planOutput(p, { deviceId: 'd', output: 'relay1', action: 'on' });
    expect(on.kind === 'write' && hex(rtuFrame(255, writePdu(on.op)))).toBe('FF 05 00 00 FF 00 99 E4');
  });
});

describe('read plans', () => {
  it('merges contiguous addresses, splits gaps and tables, respects the quantity limit', () => {
    const p = profile('waveshare-modbus-rtu-relay-d');
    const limited: DeviceProfile = {
      ...p,
      limits: { ...p.limits, maxReadBits: 3 },
      inputs: {
        ...p.inputs,
        far: point({ table: 'discrete', address: 100, type: 'bool' }),
        reg: point({ address: 5 }),
      },
    };
    const blocks = planReads(limited, ['di1', 'di2', 'di3', 'di4', 'di6', 'far', 'reg']);
    expect(blocks.map((b) => [b.table, b.address, b.quantity])).toEqual([
      ['discrete', 0, 3],
      ['discrete', 3, 1],
      ['discrete', 5, 1],
      ['discrete', 100, 1],
      ['holding', 5, 1],
    ]);
  });
});

describe('register decoding', () => {
  it('reads bits of bitmap registers (N4DIH32: X00-X15 in 0x00C0)', () => {
    const n = profile('eletechsup-n4dih32');
    const words = [0b1000_0000_0000_0101, 0b0000_0000_0000_0010];
    const get = (name: string) => decodeRegisters(n.inputs[name]!, [words[n.inputs[name]!.address - 0xc0]!]);
    expect([get('x00'), get('x01'), get('x02'), get('x15'), get('x16'), get('x17')]).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
    ]);
  });

  it('decodes 16- and 32-bit values in both word and byte orders', () => {
    // 0x12345678 as big-endian words [0x1234, 0x5678]
    expect(decodeRegisters(point({ type: 'uint32' }), [0x1234, 0x5678])).toBe(0x12345678);
    expect(decodeRegisters(point({ type: 'uint32', wordOrder: 'little' }), [0x5678, 0x1234])).toBe(0x12345678);
    expect(decodeRegisters(point({ type: 'uint32', byteOrder: 'little' }), [0x3412, 0x7856])).toBe(0x12345678);
    expect(decodeRegisters(point({ type: 'int16' }), [0xfffe])).toBe(-2);
    expect(decodeRegisters(point({ type: 'int32' }), [0xffff, 0xfffe])).toBe(-2);
    expect(decodeRegisters(point({ type: 'int32', wordOrder: 'little' }), [0xfffe, 0xffff])).toBe(-2);
    expect(decodeRegisters(point({ type: 'float32' }), [0x41a8, 0x0000])).toBe(21);
    expect(
      decodeRegisters(point({ type: 'float32', wordOrder: 'little', byteOrder: 'little' }), [0x0000, 0xa841]),
    ).toBe(21);
    expect(decodeRegisters(point({ type: 'uint16', scale: 0.1 }), [215])).toBeCloseTo(21.5);
  });
});
