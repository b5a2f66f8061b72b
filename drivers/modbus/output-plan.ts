/**
 * What to write to drive an output: pure, from the profile. A pulse uses the device's own
 * timer where its profile has one (one frame, and it still ends if the bus dies meanwhile);
 * otherwise the gateway writes on, waits, and writes off.
 */
import type { OutputCommand } from '../../core/contracts/driver.js';
import { GatewayError } from '../../core/kernel/errors.js';
import type { ModbusProfile, ModbusTable } from '../../config/schema/profile.js';

/** A single write: function code 5 (coil, raw 16-bit value) or 6 (register). */
export interface WriteOp {
  fc: 5 | 6;
  address: number;
  value: number;
}

export type OutputPlan =
  { kind: 'write'; op: WriteOp } | { kind: 'timed'; on: WriteOp; off: WriteOp; durationMs: number };

export const FUNCTION_FOR_READ: Record<ModbusTable, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };

export function planOutput(profile: ModbusProfile, cmd: OutputCommand): OutputPlan {
  const out = profile.outputs[cmd.output];
  if (!out)
    throw new GatewayError(
      'UNKNOWN_OUTPUT',
      `device ${cmd.deviceId} (${profile.id}) has no output "${cmd.output}" (it has ${Object.keys(profile.outputs).join(', ') || 'none'})`,
    );
  const level = (on: boolean): WriteOp =>
    out.write.table === 'coil'
      ? { fc: 5, address: out.write.address, value: on ? 0xff00 : 0x0000 }
      : { fc: 6, address: out.write.address, value: on ? out.write.on : out.write.off };
  if (cmd.action === 'on' || cmd.action === 'off') return { kind: 'write', op: level(cmd.action === 'on') };
  const durationMs = cmd.durationMs;
  if (durationMs === undefined || !Number.isFinite(durationMs) || durationMs <= 0) {
    throw new GatewayError('INVALID_PULSE', `pulse needs durationMs > 0 (got ${String(durationMs)})`);
  }
  const p = out.pulse;
  if (p) {
    const units = Math.round(durationMs / p.unitMs);
    if (units >= 1 && units <= p.maxUnits)
      return { kind: 'write', op: { fc: p.functionCode, address: p.address, value: p.base + units } };
  }
  return { kind: 'timed', on: level(true), off: level(false), durationMs };
}

/** The PDU bytes of a write (for fixtures and for raw function-code requests). */
export const writePdu = (op: WriteOp): number[] => [
  op.fc,
  op.address >> 8,
  op.address & 0xff,
  op.value >> 8,
  op.value & 0xff,
];

/** The PDU bytes of a read. */
export const readPdu = (table: ModbusTable, address: number, quantity: number): number[] => [
  FUNCTION_FOR_READ[table],
  address >> 8,
  address & 0xff,
  quantity >> 8,
  quantity & 0xff,
];
