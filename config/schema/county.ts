/**
 * `county.keys`: the county's ed25519 public keys. Once one is configured every command must be
 * signed by one of them (agent/uplink/command-signature.ts); without any, only the broker's ACL
 * guards the commands. One format, so a key is one line in YAML and in a pushed JSON config: the
 * base64 of the key's DER SubjectPublicKeyInfo, which is the body of the PEM `PUBLIC KEY` block
 * (`openssl pkey -pubout -outform DER | base64`, or the PEM's middle line). node:crypto reads it
 * here already, so a key the gateway could not use never gets past check-config.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The key a `publicKey` value names, or why it cannot be one. */
export function readPublicKey(value: string): { key: KeyObject } | { problem: string } {
  if (!BASE64.test(value) || value.length % 4 !== 0)
    return {
      problem: 'must be base64 (the DER SubjectPublicKeyInfo, the body of a PEM PUBLIC KEY block, on one line)',
    };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    return { problem: `is not a public key node:crypto can read (${(err as Error).message})` };
  }
  if (key.asymmetricKeyType !== 'ed25519')
    return { problem: `must be an ed25519 key (got ${key.asymmetricKeyType ?? 'unknown'})` };
  return { key };
}

const keyId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 letters, digits, ".", "_" or "-"' })
  .describe('The name a signed command gives its key (keyId)');

export const countyKeySchema = z.strictObject({
  id: keyId,
  publicKey: z
    .string()
    .superRefine((v, ctx) => {
      const read = readPublicKey(v);
      if ('problem' in read) ctx.addIssue({ code: 'custom', message: read.problem });
    })
    .describe(
      'ed25519, base64 of the DER SubjectPublicKeyInfo (the PEM body): 60 characters starting MCowBQYDK2VwAyEA',
    ),
});

export const countySchema = z
  .strictObject({
    keys: z
      .array(countyKeySchema)
      .max(8)
      .default([])
      .superRefine((keys, ctx) => {
        keys.forEach((k, i) => {
          if (keys.findIndex((o) => o.id === k.id) !== i)
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `"${k.id}" is named twice` });
        });
      })
      .describe(
        'Keys that may sign commands (rotation: push a config with the next key beside the current one, then without the old)',
      ),
  })
  .describe('The county: its command-signing keys (absent or no keys: commands are guarded by the broker ACL only)');

export type CountyConfig = z.infer<typeof countySchema>;
