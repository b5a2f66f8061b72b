/**
 * `clear {alertId}`: the county is done with an alert it acknowledged; the button's "help is
 * coming" LED goes out now rather than at its time (alarms.helpLed.offAfterSec). UNKNOWN_ALERT
 * for an id this gateway does not know (the alertId is the alert.raised event's id); FAILED
 * for an alert not acknowledged yet (no LED is lit before the ack).
 */
import { z } from 'zod';
import type { CommandHandler } from '../uplink/commands.js';

const args = z.strictObject({ alertId: z.string().min(1) });

export const clearCommand = (clear: (alertId: string) => Promise<unknown>): CommandHandler<typeof args> => ({
  args,
  run: ({ alertId }) => clear(alertId),
});
