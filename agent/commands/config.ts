/**
 * `config.get` and `config.apply`: the county reads the running config (secrets redacted)
 * and pushes a whole new one (agent/push/). The apply is an actuation: a push queued on the
 * broker for days must not land on a village whose config has moved on, so it carries an expiry.
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';

export interface ConfigPushPort {
  get(): unknown;
  apply(a: {
    config: unknown;
    expectedHash: string;
    by?: string;
    probationSec?: number;
    keyId: string | null;
  }): unknown;
}

const unavailable = () => new GatewayError('RELOAD_UNAVAILABLE', 'this agent was not started from a config file');

export const configGetCommand = (push: ConfigPushPort | undefined): CommandHandler<z.ZodObject> => ({
  args: z.strictObject({}),
  run: () => {
    if (!push) throw unavailable();
    return push.get();
  },
});

const applyArgs = z.strictObject({
  config: z.record(z.string(), z.unknown()),
  expectedHash: z.string().min(1).max(64),
  by: z.string().min(1).max(64).optional(),
  /** Tests and cautious counties: a shorter or longer window than the default. */
  probationSec: z.int().min(1).max(3600).optional(),
});

export const configApplyCommand = (
  push: ConfigPushPort | undefined,
  openAlerts: () => number,
): CommandHandler<typeof applyArgs> => ({
  args: applyArgs,
  actuation: true,
  run: (a, ctx) => {
    if (!push) throw unavailable();
    // Refused, not queued: a restart during an alarm would blink the sirens and LEDs it drives.
    const open = openAlerts();
    if (open > 0) throw new GatewayError('ALARM_ACTIVE', `${open} alert(s) not acknowledged: push again once they are`);
    return push.apply({ ...a, keyId: ctx.keyId });
  },
});
