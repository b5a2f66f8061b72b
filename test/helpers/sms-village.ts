/**
 * The panic panel's village with a GSM modem: a simulated AT modem at one end of a real pty
 * pair (socat), the agent's modem driver at the other. What the SMS tests share.
 */
import { ModemSimulator } from '../../scripts/simulators/modem-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import type { PanicPanel } from './panic-panel.js';
import { gsmModem } from './village-config.js';
import type { AlarmsInput } from './config-input.js';
import type { TestConfigOver } from './agent-config.js';

export const SMS_TO = '13800138000';

export interface VillageModem {
  pty: PtyPair;
  sim: ModemSimulator;
}

/** A modem on a fresh pty pair; `cleanup` gets what undoes it. */
export async function startModem(cleanup: (fn: () => Promise<unknown> | unknown) => void): Promise<VillageModem> {
  const pty = await new PtyPair('sms').start();
  cleanup(() => pty.dispose());
  const sim = await new ModemSimulator(pty.a).open();
  cleanup(() => sim.close());
  return { pty, sim };
}

/**
 * Config parts for villageAgent: the panel's devices and rule plus the modem, SMS to SMS_TO,
 * everything else of `alarms` at the shipped defaults unless `alarms` says otherwise.
 */
export function smsVillageConfig(
  panel: PanicPanel,
  modem: VillageModem,
  o: { ruleSms?: 'fallback' | 'always'; alarms?: AlarmsInput } = {},
): TestConfigOver {
  const parts = panel.config();
  return {
    ...parts,
    devices: [...parts.devices, gsmModem(modem.pty.b)],
    rules: parts.rules.map((r) => ({ ...r, ...(o.ruleSms ? { sms: o.ruleSms } : {}) })),
    alarms: { smsTo: [SMS_TO], ...o.alarms },
  };
}
