/** County signing keys for tests: a fresh ed25519 pair, its config entry, and commands it signs. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { publicKeyValue, signCommand, type CommandToSign } from '../../scripts/county/signed-envelope.js';

export interface TestKey {
  id: string;
  key: KeyObject;
  /** The entry for county.keys. */
  entry: { id: string; publicKey: string };
  /** A signed payload, as a string to publish. */
  sign(c: CommandToSign): string;
}

export function countyKey(id: string): TestKey {
  const { privateKey: key } = generateKeyPairSync('ed25519');
  return {
    id,
    key,
    entry: { id, publicKey: publicKeyValue(key) },
    sign: (c) => JSON.stringify(signCommand(key, id, c)),
  };
}
