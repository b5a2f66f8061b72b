/** `siren-test {ms?}`: every configured siren sounds for a moment; the result is recorded as an event too. */
import { z } from 'zod';
import type { OutputCommand } from '../../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { GatewayError, errorMessage } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';

export interface SirenTestPorts {
  gatewayId: string;
  sirens: readonly { device: string; output: string; testMs: number }[];
  write(command: OutputCommand): Promise<void>;
  emit(event: EventInput): Promise<GatewayEvent>;
}

const args = z.strictObject({ ms: z.int().min(100).max(60_000).optional() });

export const sirenTestCommand = (p: SirenTestPorts): CommandHandler<typeof args> => ({
  args,
  actuation: true,
  run: async ({ ms }) => {
    if (p.sirens.length === 0) throw new GatewayError('NO_SIRENS', 'no sirens configured (alarms.sirens)');
    const results = await Promise.all(
      p.sirens.map((s) =>
        p.write({ deviceId: s.device, output: s.output, action: 'pulse', durationMs: ms ?? s.testMs }).then(
          () => ({ device: s.device, output: s.output, ok: true as const }),
          (err: unknown) => ({ device: s.device, output: s.output, ok: false as const, error: errorMessage(err) }),
        ),
      ),
    );
    await p.emit({ deviceId: p.gatewayId, type: 'alarm.siren_test', priority: 'normal', data: { results } });
    return { sirens: results };
  },
});
