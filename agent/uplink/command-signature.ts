/**
 * Signed commands (docs/county.md, "Signed commands"). Once the config names a county key
 * (`county.keys`), a command's payload must be the envelope `{signed, keyId, sig}`: `signed` is
 * the request as a JSON string, `sig` the base64 ed25519 signature over its UTF-8 bytes. The
 * signature is over the string as sent, not over a re-serialised object, so the county signs
 * exactly the bytes it publishes and no canonical JSON is needed on either side.
 * This file only opens the envelope; what the request inside must say (its command, gateway,
 * nonce and expiry) is checked by the router, which knows the topic it came on.
 */
import { verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { readPublicKey, type CountyConfig } from '../../config/schema/county.js';
import type { RefusalCode } from '../../core/contracts/events/commands.js';

const envelopeSchema = z.strictObject({
  signed: z.string().min(2),
  keyId: z.string().min(1).max(64),
  sig: z.string().max(200),
});

export type Opened =
  | { ok: true; keyId: string; request: unknown }
  | { ok: false; code: RefusalCode | 'MALFORMED'; message: string; keyId: string | null };

export class CommandSignatures {
  private readonly keys = new Map<string, KeyObject>();

  constructor(county: CountyConfig | undefined) {
    for (const { id, publicKey } of county?.keys ?? []) {
      const read = readPublicKey(publicKey);
      // The config schema refused any other already; a key that fails here is left out, so nothing it signed passes.
      if ('key' in read) this.keys.set(id, read.key);
    }
  }

  /** Commands must be signed: the config names at least one key. */
  get required(): boolean {
    return this.keys.size > 0;
  }

  /** The request inside a verified envelope, or the refusal (its key named whenever the envelope named one). */
  open(json: unknown): Opened {
    const env = envelopeSchema.safeParse(json);
    if (!env.success) {
      const named = typeof json === 'object' && json !== null && ('signed' in json || 'sig' in json);
      return named
        ? {
            ok: false,
            code: 'MALFORMED',
            message: 'a signed command is {signed, keyId, sig}, all strings',
            keyId: null,
          }
        : {
            ok: false,
            code: 'UNSIGNED',
            message: 'a county key is configured: commands must be signed ({signed, keyId, sig}, docs/county.md)',
            keyId: null,
          };
    }
    const { signed, keyId, sig } = env.data;
    const key = this.keys.get(keyId);
    if (!key)
      return {
        ok: false,
        code: 'UNKNOWN_KEY',
        message: `no county key "${keyId}" is configured (known: ${[...this.keys.keys()].join(', ')})`,
        keyId,
      };
    const sigBytes = Buffer.from(sig, 'base64');
    // Buffer.from ignores what is not base64: a signature is exactly 64 bytes, written exactly once.
    const good = sigBytes.length === 64 && sigBytes.toString('base64') === sig;
    if (!good || !verify(null, Buffer.from(signed, 'utf8'), key, sigBytes))
      return {
        ok: false,
        code: 'BAD_SIGNATURE',
        message: `the signature does not verify with key "${keyId}" (ed25519 over the UTF-8 bytes of "signed", base64)`,
        keyId,
      };
    try {
      return { ok: true, keyId, request: JSON.parse(signed) };
    } catch (err) {
      return { ok: false, code: 'MALFORMED', message: `"signed" is not JSON: ${(err as Error).message}`, keyId };
    }
  }
}
