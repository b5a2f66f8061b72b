/**
 * County commands the gateway refused as stale: the county learns that a command it sent
 * (perhaps days ago, to a gateway that was offline) did not run, and why (agent/uplink/command-expiry.ts).
 */
import { z } from 'zod';
import { spec } from './define.js';

export const commandEvents = {
  'command.stale': spec(
    'normal',
    z.strictObject({
      command: z.string().describe('The command refused (output, siren-test, ...)'),
      id: z.string().nullable().describe("The command's id, when it had one"),
      code: z
        .enum(['EXPIRED', 'NO_EXPIRY'])
        .describe('EXPIRED: past its time; NO_EXPIRY: an actuation command without one'),
      message: z.string().describe('Why, in words'),
      expiredAt: z.int().nullable().describe('When it stopped being good (epoch ms), if it said'),
      judgedAt: z.int().describe('The time it was judged at (epoch ms)'),
      clock: z
        .enum(['gateway', 'county'])
        .describe("gateway: the gateway's own clock; county: the last time the county stated, moved on"),
    }),
    'a county command was refused as stale or without an expiry, and did not run (sent like the reply, for the record)',
  ),
};
