/**
 * A release bundle's manifest (manifest.json) and its signature (manifest.sig): what
 * make-bundle.ts writes and apply-update.ts trusts. The signature is ed25519 over the
 * manifest's exact bytes, so the bytes are verified first and only then parsed: a parser
 * never sees input the county did not sign. Self-contained (node: and zod only): the apply
 * step runs as root from the release already installed, and should load as little as it can.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
/** A manifest for ~10,000 files is ~1.5 MB; more than this is not ours. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

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

/**
 * A path inside a release: relative, '/'-separated, no '.', '..' or empty segment, no NUL or
 * backslash. Anything else could write outside releases/<version> when joined to it.
 */
export function checkRelPath(p: string): string | null {
  if (p.length === 0 || p.length > 4096) return 'empty or too long';
  if (p.startsWith('/')) return 'absolute';
  if (/[\0\\]/.test(p)) return 'a NUL or a backslash';
  if (p.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'a "", "." or ".." segment';
  return null;
}

const relPath = z.string().superRefine((p, ctx) => {
  const why = checkRelPath(p);
  if (why) ctx.addIssue({ code: 'custom', message: `path ${JSON.stringify(p)}: ${why}` });
});

export const fileEntry = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  // Permission bits only: a bundle never carries setuid, setgid or sticky files.
  mode: z.number().int().min(0).max(0o777),
});
export type FileEntry = z.infer<typeof fileEntry>;

export const manifestSchema = z
  .strictObject({
    v: z.literal(1),
    version: z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/),
    arch: z.string().regex(/^[a-z0-9_]{1,16}$/),
    /** The bundled Node's version, or "system" when the release runs on the gateway's own node. */
    node: z.string().max(64),
    createdAt: z.string(),
    files: z.record(relPath, fileEntry),
    /** Links inside the release (node_modules' own), as path -> relative target. */
    links: z.record(relPath, z.string()),
  })
  .superRefine((m, ctx) => {
    for (const [at, target] of Object.entries(m.links)) {
      if (!linkStaysInside(at, target))
        ctx.addIssue({ code: 'custom', message: `link ${at} -> ${target} leaves the release` });
      if (at in m.files) ctx.addIssue({ code: 'custom', message: `${at} is both a file and a link` });
    }
  });
export type Manifest = z.infer<typeof manifestSchema>;

/** Whether a relative link target, resolved from the link's folder, stays inside the release. */
export function linkStaysInside(at: string, target: string): boolean {
  if (target.startsWith('/') || /[\0\\]/.test(target) || target === '') return false;
  const parts = at.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '..') {
      if (parts.length === 0) return false;
      parts.pop();
    } else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.length > 0;
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

/** An issue as a line: a bad path (a record key) says which path and why. */
const said = (i: z.core.$ZodIssue): string =>
  i.code === 'invalid_key' ? i.issues.map((k) => k.message).join(', ') : `${i.path.join('.')}: ${i.message}`;

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
