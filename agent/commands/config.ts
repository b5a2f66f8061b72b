/**
 * `config.get` and `config.apply`: the county reads the running config (secrets redacted)
 * and pushes a whole new one (agent/push/). The apply is an actuation, refused during an alarm
 * (push-apply.ts).
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';
import { pushApplyCommand, pushArgs, pushGetCommand } from './push-apply.js';

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

export const configGetCommand = (push: ConfigPushPort | undefined): CommandHandler<z.ZodObject> =>
  pushGetCommand(push ? () => push.get() : null, unavailable);

const applyArgs = z.strictObject({
  config: z.record(z.string(), z.unknown()),
  expectedHash: z.string().min(1).max(64),
  ...pushArgs,
});

export const configApplyCommand = (
  push: ConfigPushPort | undefined,
  openAlerts: () => number,
): CommandHandler<typeof applyArgs> =>
  pushApplyCommand(
    applyArgs,
    push ? (a, ctx) => push.apply({ ...a, keyId: ctx.keyId }) : null,
    unavailable,
    openAlerts,
  );
