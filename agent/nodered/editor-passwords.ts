/**
 * Editor passwords a technician reset on site (`village-gateway editor password`), kept as
 * bcrypt hashes in `dataDir/node-red/editor-passwords.json` ({username: hash}, mode 0600, the
 * agent's user). They replace the config's password of that user until removed with
 * `--use-config`: the config's password is a secret reference (a string, an env variable, a
 * file in /etc) that the CLI cannot always rewrite, and a technician locked out needs in now.
 * The hash is made with Node-RED's own bcryptjs, so the child uses it as it comes.
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, foreignCode, GatewayError } from '../../core/kernel/errors.js';
import { ownLikeDataDir } from './technician-requests.js';

export const passwordsFile = (dataDir: string): string => join(dataDir, 'editor', 'passwords.json');

export function readPasswordOverrides(dataDir: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(passwordsFile(dataDir), 'utf8'));
  } catch (err) {
    if (foreignCode(err) === 'ENOENT') return {};
    throw new GatewayError('CONFIG_CANNOT_RUN', `editor passwords unreadable: ${errorMessage(err)}`, { cause: err });
  }
  const out: Record<string, string> = {};
  if (typeof raw === 'object' && raw !== null)
    for (const [user, hash] of Object.entries(raw))
      if (typeof hash === 'string' && /^\$2[aby]\$/.test(hash)) out[user] = hash;
  return out;
}

/** The config's users with any reset password put in as its hash (what the child is given). */
export function editorUsers(
  users: { username: string; password: string }[],
  dataDir: string,
  onError: (err: unknown) => void,
): { username: string; password: string; passwordHash?: string }[] {
  let overrides: Record<string, string> = {};
  try {
    overrides = readPasswordOverrides(dataDir);
  } catch (err) {
    onError(err); // the config's passwords still work
  }
  return users.map((u) => {
    const hash = overrides[u.username];
    return hash ? { username: u.username, password: '', passwordHash: hash } : u;
  });
}

/** Sets (a new password) or removes (null) a user's reset password. */
export async function setPasswordOverride(dataDir: string, username: string, password: string | null): Promise<void> {
  const all = readPasswordOverrides(dataDir);
  if (password === null) delete all[username];
  else {
    const redRequire = createRequire(createRequire(import.meta.url).resolve('node-red'));
    const bcrypt = redRequire('bcryptjs') as { hash(s: string, rounds: number): Promise<string> };
    all[username] = await bcrypt.hash(password, 10);
  }
  const file = passwordsFile(dataDir);
  mkdirSync(join(dataDir, 'editor'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(all), { mode: 0o600 });
  ownLikeDataDir(dataDir, `${file}.tmp`);
  renameSync(`${file}.tmp`, file);
}
