/** `status`: what the agent's observation API reports (outbox, uplink, devices, alarms), on request. */
import { z } from 'zod';
import type { CommandHandler } from '../uplink/commands.js';

const args = z.strictObject({});

export const statusCommand = (report: () => unknown): CommandHandler<typeof args> => ({
  args,
  run: () => report(),
});
