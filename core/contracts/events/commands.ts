/**
 * County commands the gateway refused as stale: the county learns that a command it sent
 * (perhaps days ago, to a gateway that was offline) did not run, and why (agent/uplink/command-expiry.ts).
 * Once commands are signed, the signature gate's refusals (agent/uplink/command-signature.ts).
 */
import { z } from 'zod';
import { spec } from './define.js';

/** The codes a command.refused names. */
export const REFUSAL_CODES = [
  'UNSIGNED',
  'UNKNOWN_KEY',
  'BAD_SIGNATURE',
  'WRONG_TARGET',
  'REPLAYED',
  'EXPIRED',
  'NO_EXPIRY',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

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
  'command.refused': spec(
    'normal',
    z.strictObject({
      command: z.string().describe('The command topic it came on (output, config.apply, ...)'),
      id: z
        .string()
        .nullable()
        .describe("The request's id, when it could be read (not trusted: it may not have verified)"),
      code: z.enum(REFUSAL_CODES).describe('Why (docs/county.md, "Error codes")'),
      message: z.string().describe('Why, in words'),
      keyId: z.string().nullable().describe('The key the envelope named, when it named one'),
      unrecorded: z
        .int()
        .min(1)
        .optional()
        .describe('Refusals since the last record not recorded each (10 are, then one every 6 s)'),
    }),
    // Normal, not critical: whoever may publish on the command topic could otherwise fill the alarm lane with refusals.
    'with county keys configured, a command was refused by its signature, target, nonce or expiry, and did not run',
  ),
};
