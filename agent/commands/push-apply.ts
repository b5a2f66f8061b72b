/**
 * What config.apply and flows.apply share: an actuation (a push queued on the broker for days
 * must not land on a village that moved on, so it carries an expiry), the window a county may
 * ask for, and the refusal during an alarm (a restart under it would blink the sirens and LEDs
 * the agent drives, or stop the flows that may be handling it): refused, not queued.
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandContext, CommandHandler } from '../uplink/commands.js';

/** The arguments every push takes besides what it pushes and the hash or revision it replaces. */
export const pushArgs = {
  by: z.string().min(1).max(64).optional(),
  /** Tests and cautious counties: a shorter or longer window than the default. */
  probationSec: z.int().min(1).max(3600).optional(),
};

export function pushApplyCommand<S extends z.ZodObject>(
  args: S,
  apply: ((a: z.infer<S>, ctx: CommandContext) => unknown) | null,
  unavailable: () => GatewayError,
  openAlerts: () => number,
): CommandHandler<S> {
  return {
    args,
    actuation: true,
    run: (a, ctx) => {
      if (!apply) throw unavailable();
      const open = openAlerts();
      if (open > 0)
        throw new GatewayError('ALARM_ACTIVE', `${open} alert(s) not acknowledged: push again once they are`);
      return apply(a, ctx);
    },
  };
}

/** config.get, flows.get: no arguments, what the gateway runs now. */
export const pushGetCommand = (
  get: (() => unknown) | null,
  unavailable: () => GatewayError,
): CommandHandler<z.ZodObject> => ({
  args: z.strictObject({}),
  run: () => {
    if (!get) throw unavailable();
    return get();
  },
});
