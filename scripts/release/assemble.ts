/**
 * The apply step's first half, as root: trusts nothing the agent staged but the bytes whose
 * sha256 the county signed. The key comes from root's own config; the manifest's signature is
 * checked over its exact bytes; each file is read once, hashed and written from that same
 * buffer into a root-owned folder (the agent cannot swap it after the check); a file the
 * update does not carry is taken from the release that runs, when its hash is the signed one.
 */
import {
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import {
  MANIFEST,
  MAX_MANIFEST_BYTES,
  publicKeyOf,
  Refusal,
  SIGNATURE,
  sha256,
  verifiedManifest,
  type Manifest,
} from './manifest.js';

/**
 * The county's public key, only if root's: a regular file (not a link) owned by uid 0 that
 * group and others cannot write. /etc/village-gateway is the agent's group's (sticky, 1770):
 * a key the agent put there itself must never count.
 */
export function trustedKey(file: string) {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st)
    throw new Refusal('KEY_UNTRUSTED', `no update key at ${file} (the county's public key, installed by a technician)`);
  if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0)
    throw new Refusal('KEY_UNTRUSTED', `${file} is not a root-owned file only root can write: not trusted`);
  return publicKeyOf(readFileSync(file, 'utf8'));
}

/** A staged file's bytes, never through a link (its folders included), or null when it is absent. */
function readStaged(stagedReal: string, path: string): Buffer | null {
  const file = join(stagedReal, path);
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) return null;
  if (!st.isFile()) throw new Refusal('BAD_PATH', `staged ${path} is not a regular file`);
  if (!realpathSync(file).startsWith(stagedReal + sep))
    throw new Refusal('BAD_PATH', `staged ${path} is reached through a link`);
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readVerifiedManifest(staged: string, keyFile: string): Manifest {
  const key = trustedKey(keyFile);
  const stagedReal = realpathSync(staged);
  const bytes = readStaged(stagedReal, MANIFEST);
  const sig = readStaged(stagedReal, SIGNATURE);
  if (!bytes || !sig) throw new Refusal('FILE_MISSING', `${staged} has no ${bytes ? SIGNATURE : MANIFEST}`);
  if (bytes.length > MAX_MANIFEST_BYTES) throw new Refusal('BAD_MANIFEST', `manifest.json is ${bytes.length} bytes`);
  return verifiedManifest(bytes, sig.toString('utf8'), key);
}

export interface Assembled {
  /** Files taken from the update folder, and from the running release. */
  staged: number;
  reused: number;
  stagedBytes: number;
}

/** Writes the release the manifest describes into `out` (made fresh), or throws a Refusal. */
export function assemble(m: Manifest, staged: string, currentDir: string, out: string): Assembled {
  const stagedReal = realpathSync(staged);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true, mode: 0o755 });
  const done: Assembled = { staged: 0, reused: 0, stagedBytes: 0 };
  for (const [path, f] of Object.entries(m.files)) {
    let bytes = readStaged(stagedReal, path);
    if (bytes) {
      if (sha256(bytes) !== f.sha256 || bytes.length !== f.size)
        throw new Refusal('FILE_MISMATCH', `${path}: its sha256 is not the signed one (tampered or torn)`);
      done.staged += 1;
      done.stagedBytes += bytes.length;
    } else {
      bytes = fromCurrent(currentDir, path, f.sha256);
      if (!bytes)
        throw new Refusal(
          'FILE_MISSING',
          `${path} is neither in the update nor, with the signed sha256, in the running release`,
        );
      done.reused += 1;
    }
    mkdirSync(dirname(join(out, path)), { recursive: true, mode: 0o755 });
    writeFileSync(join(out, path), bytes, { mode: f.mode });
    chmodSync(join(out, path), f.mode); // the umask does not decide a release file's mode
  }
  for (const [path, target] of Object.entries(m.links)) {
    mkdirSync(dirname(join(out, path)), { recursive: true, mode: 0o755 });
    symlinkSync(target, join(out, path));
  }
  // The signed manifest goes with the release (install.sh ships it): it is the next update's base
  // (agent/update/stager.ts); without it the next update would fetch every file again.
  for (const name of [MANIFEST, SIGNATURE]) {
    const bytes = readStaged(stagedReal, name);
    if (!bytes) throw new Refusal('FILE_MISSING', `${staged} has no ${name}`);
    writeFileSync(join(out, name), bytes, { mode: 0o644 });
  }
  return done;
}

function fromCurrent(currentDir: string, path: string, want: string): Buffer | null {
  const file = join(currentDir, path);
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) return null;
  const bytes = readFileSync(file);
  return sha256(bytes) === want ? bytes : null;
}
