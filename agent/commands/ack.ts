/** `ack {alertId}`: the county has seen an alert; the button's LED tells the resident help is coming. */
import { z } from 'zod';
import type { CommandHandler } from '../uplink/commands.js';

const args = z.strictObject({ alertId: z.string().min(1) });

export const ackCommand = (
  acknowledge: (alertId: string, by: string) => Promise<unknown>,
): CommandHandler<typeof args> => ({
  args,
  run: ({ alertId }) => acknowledge(alertId, 'county'),
});
