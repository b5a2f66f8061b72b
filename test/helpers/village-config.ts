/**
 * Config entries the village tests write again and again, as typed builders: the Modbus TCP bus
 * to a simulator, the Waveshare IO 8CH board as unit 1 on it, the SIMCom modem on a pty, and the
 * panic rule (a press pulses a siren and raises an alert). A test says only what it changes.
 */
import type { BusInput, DeviceOf, RuleInput } from './config-input.js';

export const IO_8CH = 'waveshare-modbus-rtu-io-8ch';

/** Modbus TCP to a simulator on this machine, as bus `tcp`. */
export const tcpBus = (port: number, timeoutMs?: number): BusInput => ({
  id: 'tcp',
  type: 'modbus-tcp',
  host: '127.0.0.1',
  port,
  ...(timeoutMs === undefined ? {} : { timeoutMs }),
});

/** The IO 8CH board as unit 1 on bus `tcp`, polled every 50 ms, named `io`; `over` adds or replaces keys. */
export const ioBoard = (over: Partial<DeviceOf<'modbus'>> = {}): DeviceOf<'modbus'> => ({
  id: 'io',
  driver: 'modbus',
  bus: 'tcp',
  unitId: 1,
  profile: IO_8CH,
  pollMs: 50,
  ...over,
});

/** The SIMCom SIM7600 at `path` (a pty's end), polled for its status every `statusPollSec`. */
export const gsmModem = (path: string, statusPollSec = 60): DeviceOf<'modem'> => ({
  id: 'gsm',
  driver: 'modem',
  path,
  profile: 'simcom-sim7600',
  statusPollSec,
});

/** `alarm.pressed` -> pulse `output` of `device` for `pulseMs` + an alert; cooldown 0 unless `over` says. */
export function panicRule(o: {
  pulseMs: number;
  device?: string;
  output?: string;
  message?: string;
  over?: Partial<RuleInput>;
}): RuleInput {
  return {
    id: 'panic',
    when: { type: 'alarm.pressed' },
    cooldownSec: 0,
    actions: [
      { do: 'output', device: o.device ?? 'io', output: o.output ?? 'do7', action: 'pulse', durationMs: o.pulseMs },
      { do: 'alert', message: o.message ?? 'panic button pressed' },
    ],
    ...o.over,
  };
}
