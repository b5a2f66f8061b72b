/** `ping`: the cheapest round trip, with the gateway's wall clock for the county to compare. */
import { z } from 'zod';
import type { CommandHandler } from '../uplink/commands.js';

const args = z.strictObject({});

export const pingCommand = (now: () => number): CommandHandler<typeof args> => ({
  args,
  run: () => ({ pong: true, ts: new Date(now()).toISOString() }),
});
