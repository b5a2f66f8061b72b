/**
 * A release bundle's manifest (manifest.json) and its signature (manifest.sig): what
 * make-bundle.ts writes and apply-update.ts trusts. The signature is ed25519 over the
 * manifest's exact bytes, so the bytes are verified first and only then parsed: a parser
 * never sees input the county did not sign. Self-contained (node: and zod only): the apply
 * step runs as root from the release already installed, and should load as little as it can.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { manifestSchema, issueLine as said, type Manifest } from '../../core/contracts/release-manifest.js';

export {
  MANIFEST,
  SIGNATURE,
  MAX_MANIFEST_BYTES,
  checkRelPath,
  fileEntry,
  manifestSchema,
  linkStaysInside,
  type FileEntry,
  type Manifest,
} from '../../core/contracts/release-manifest.js';

/** Why a bundle or an update is refused: the code the result file and the events carry. */
export type RefusalCode =
  | 'BAD_SIGNATURE'
  | 'BAD_MANIFEST'
  | 'BAD_PATH'
  | 'FILE_MISMATCH'
  | 'FILE_MISSING'
  | 'WRONG_ARCH'
  | 'SAME_VERSION'
  | 'KEY_UNTRUSTED'
  | 'INSTALL_FAILED';

export class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export function signManifest(bytes: Buffer, privatePem: string): string {
  return sign(null, bytes, createPrivateKey(privatePem)).toString('base64') + '\n';
}

export function publicKeyOf(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Refusal('KEY_UNTRUSTED', `the update key is ${key.asymmetricKeyType}, not ed25519`);
  return key;
}

/** Verifies the signature over the exact bytes, then parses: the manifest, or a Refusal. */
export function verifiedManifest(bytes: Buffer, sigText: string, key: KeyObject): Manifest {
  const sig = Buffer.from(sigText.trim(), 'base64');
  if (sig.length !== 64 || !verify(null, bytes, key, sig))
    throw new Refusal('BAD_SIGNATURE', "manifest.sig is not the county key's signature over this manifest.json");
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Refusal('BAD_MANIFEST', `manifest.json is signed but not JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new Refusal('BAD_MANIFEST', `manifest.json: ${parsed.error.issues.slice(0, 3).map(said).join('; ')}`);
  return parsed.data;
}
