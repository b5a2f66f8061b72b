/**
 * The county side of signed commands (docs/county.md, "Signed commands"): a request for one
 * command on one gateway, with a fresh nonce and an expiry, serialised once and signed as those
 * exact bytes. The gateway verifies the string it receives, so no canonical JSON is needed.
 */
import { createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';

export interface SignedEnvelope {
  signed: string;
  keyId: string;
  sig: string;
}

export interface CommandToSign {
  command: string;
  gatewayId: string;
  id?: string;
  args?: Record<string, unknown>;
  /** Epoch ms; default: sentAt + 60 s. */
  expiresAt?: number;
  /** Epoch ms; default: now. */
  sentAt?: number;
  /** Default: a random UUID. */
  nonce?: string;
}

/** A private key from its PEM text (PKCS#8, as `openssl genpkey -algorithm ed25519` writes it). */
export function readPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an ed25519 key (${key.asymmetricKeyType})`);
  return key;
}

/** The value for the gateway's `county.keys[].publicKey`: base64 of the DER SubjectPublicKeyInfo. */
export const publicKeyValue = (key: KeyObject): string =>
  createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64');

/** Signs the bytes given as `signed` as they are (tests use it to sign what the builder would not). */
export const signString = (key: KeyObject, keyId: string, signed: string): SignedEnvelope => ({
  signed,
  keyId,
  sig: sign(null, Buffer.from(signed, 'utf8'), key).toString('base64'),
});

export function signCommand(key: KeyObject, keyId: string, c: CommandToSign, now = Date.now()): SignedEnvelope {
  const sentAt = c.sentAt ?? now;
  const request = {
    command: c.command,
    gatewayId: c.gatewayId,
    ...(c.id !== undefined ? { id: c.id } : {}),
    args: c.args ?? {},
    sentAt,
    expiresAt: c.expiresAt ?? sentAt + 60_000,
    nonce: c.nonce ?? randomUUID(),
  };
  return signString(key, keyId, JSON.stringify(request));
}
