/**
 * Finds and validates device profiles. A config names a profile by id only: the file is
 * `profiles/<id>.yaml` beside the config file, else the built-in one. Nothing else is ever
 * read: an id that is not a plain name is refused before the file system is touched, and a
 * profile file that resolves (through symlinks) outside those two folders is refused before
 * it is read. Problems are reported with the profile file and the path inside it.
 */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join, relative, isAbsolute, sep } from 'node:path';
import { profileSchema, PROFILE_ID, PROFILE_ID_MESSAGE, type DeviceProfile } from './schema/profile.js';
import { readYamlFile } from './safe-yaml.js';
import { problemsFromZod, type ConfigProblem } from './zod-problems.js';
import { didYouMean } from './did-you-mean.js';
import { profileKeysAt } from './known-keys.js';
import { GatewayError } from '../core/kernel/errors.js';
import { PACKAGE_ROOT } from '../core/kernel/package-root.js';

/** The built-in profiles: config/profiles under the package root (the sources' and a release's). */
export const BUILTIN_PROFILES = join(PACKAGE_ROOT, 'config/profiles');

/** The folders a profile may come from, most specific first. */
export const profileFolders = (baseDir: string): string[] => [
  ...new Set([join(baseDir, 'profiles'), BUILTIN_PROFILES]),
];

export function profileCandidates(ref: string, baseDir: string): string[] {
  if (!PROFILE_ID.test(ref)) return [];
  return profileFolders(baseDir).map((dir) => join(dir, `${ref}.yaml`));
}

export type ProfileResult =
  { ok: true; profile: DeviceProfile; file: string } | { ok: false; problems: ConfigProblem[] };

const inside = (dir: string, file: string) => {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/** The profile ids in the folders a config looks in, for "did you mean". */
function knownProfiles(folders: readonly string[]): string[] {
  return folders.flatMap((f) => {
    try {
      return readdirSync(f)
        .filter((n) => n.endsWith('.yaml'))
        .map((n) => n.slice(0, -'.yaml'.length));
    } catch {
      return []; // a folder that is not there has no profiles to suggest
    }
  });
}

export function loadProfile(ref: string, baseDir: string): ProfileResult {
  const problem = (message: string): ProfileResult => ({ ok: false, problems: [{ path: '', message }] });
  // Callers that skip the config schema (simulators, tests) get the same refusal.
  if (!PROFILE_ID.test(ref)) return problem(`${PROFILE_ID_MESSAGE} (got ${JSON.stringify(ref)})`);
  const folders = profileFolders(baseDir);
  const candidates = profileCandidates(ref, baseDir);
  const at = candidates.findIndex((c) => existsSync(c));
  if (at < 0)
    return problem(
      `profile "${ref}" not found${didYouMean(ref, knownProfiles(folders))} (looked in ${candidates.join(', ')})`,
    );
  const file = candidates[at]!;
  // A symlink in profiles/ must not lead the loader elsewhere (e.g. to /etc/shadow).
  let real: string;
  let realFolder: string;
  try {
    real = realpathSync(file);
    realFolder = realpathSync(folders[at]!);
  } catch (err) {
    return problem(`${file}: cannot read: ${(err as Error).message}`);
  }
  if (!inside(realFolder, real))
    return problem(
      `${file}: resolves to ${real}, outside ${realFolder}; refused (profiles are read only from their folders)`,
    );
  const read = readYamlFile(real);
  if (!read.ok)
    return { ok: false, problems: read.problems.map((p) => ({ path: '', message: `${file}: ${p.message}` })) };
  const parsed = profileSchema.safeParse(read.value, { reportInput: true });
  if (!parsed.success)
    return {
      ok: false,
      problems: problemsFromZod(parsed.error, (path) => profileKeysAt(read.value, path)).map((p) => ({
        path: '',
        message: `${file}: ${p.path ? `${p.path}: ` : ''}${p.message}`,
      })),
    };
  return { ok: true, profile: parsed.data, file };
}

/** Loads a profile that must be for `transport` (simulators, benchmarks and tests use this). */
export function requireProfile<T extends DeviceProfile['transport']>(
  ref: string,
  transport: T,
  baseDir = '/nonexistent',
): Extract<DeviceProfile, { transport: T }> {
  const r = loadProfile(ref, baseDir);
  if (!r.ok) throw new GatewayError('CONFIG_INVALID', r.problems.map((p) => p.message).join('\n'));
  if (r.profile.transport !== transport)
    throw new GatewayError('CONFIG_INVALID', `profile ${ref} is for ${r.profile.transport}, not ${transport}`);
  return r.profile as Extract<DeviceProfile, { transport: T }>;
}
