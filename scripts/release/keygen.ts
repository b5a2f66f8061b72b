/**
 * The county's update key pair: `node dist/scripts/release/keygen.js DIR` writes
 * DIR/county-update.key (private, 0600: stays at the county, signs bundles) and
 * DIR/update-key.pem (public: goes to each gateway as /etc/village-gateway/update-key.pem,
 * root's, 0644). The same with openssl:
 *   openssl genpkey -algorithm ed25519 -out county-update.key
 *   openssl pkey -in county-update.key -pubout -out update-key.pem
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMain } from './is-main.js';

export function keygen(dir: string): { privateFile: string; publicFile: string } {
  mkdirSync(dir, { recursive: true });
  const privateFile = join(dir, 'county-update.key');
  const publicFile = join(dir, 'update-key.pem');
  // Never over an existing key: the gateways in the field trust the old one.
  if (existsSync(privateFile)) throw new Error(`${privateFile} exists: a new key would not be trusted by the gateways`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return { privateFile, publicFile };
}

if (isMain(import.meta.url)) {
  try {
    console.log(JSON.stringify(keygen(process.argv[2] ?? '.')));
  } catch (err) {
    console.error(`keygen: ${(err as Error).message}`);
    process.exit(1);
  }
}
