/**
 * What the request inside a signed envelope must say besides the usual {id, args, expiresAt,
 * sentAt}: the command and the gateway it is for (so a signature cannot be replayed on another
 * command topic or another gateway) and a nonce (so it cannot be replayed on this one).
 */
import { z } from 'zod';
import { ACTUATION_MAX_AGE_MS } from './command-expiry.js';

export const signedRequestFields = {
  command: z.string().min(1).max(64),
  gatewayId: z.string().min(1).max(128),
  nonce: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{8,64}$/, { error: 'must be 8-64 letters, digits, ".", "_", ":" or "-" (a UUID will do)' }),
};

/** Until when a signed command that ran must be remembered: its expiresAt, else 60 s after its sentAt. */
export const signedUntil = (expiresAt: number | undefined, sentAt: number | undefined): number =>
  expiresAt ?? sentAt! + ACTUATION_MAX_AGE_MS;

const idOf = (v: unknown): string | undefined => {
  const id = typeof v === 'object' && v !== null ? (v as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id.length <= 128 ? id : undefined;
};

/**
 * The request's id for a refusal's reply, read before anything is trusted (a plain command's, or
 * the one inside an envelope that did not verify): it is only echoed, so the county can match it.
 */
export function peekId(json: unknown): string | undefined {
  const signed = typeof json === 'object' && json !== null ? (json as { signed?: unknown }).signed : undefined;
  if (typeof signed !== 'string') return idOf(json);
  try {
    return idOf(JSON.parse(signed));
  } catch {
    return undefined;
  }
}
