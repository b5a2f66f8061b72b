/**
 * Finds and validates device profiles. A profile is named by id (looked up in `profiles/`
 * beside the config file, then among the built-in ones) or given as a path. Problems are
 * reported with the profile file and the path inside it.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileSchema, type DeviceProfile } from './schema/profile.js';
import { readYamlFile } from './safe-yaml.js';
import { problemsFromZod, type ConfigProblem } from './zod-problems.js';

/** The built-in profiles, from source (config/) or from the build (dist/config/). */
export const BUILTIN_PROFILES = [new URL('./profiles/', import.meta.url), new URL('../../config/profiles/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('./profiles/', import.meta.url));

export function profileCandidates(ref: string, baseDir: string): string[] {
  if (ref.includes('/') || ref.endsWith('.yaml') || ref.endsWith('.json')) return [isAbsolute(ref) ? ref : resolve(baseDir, ref)];
  return [...new Set([join(baseDir, 'profiles', `${ref}.yaml`), join(BUILTIN_PROFILES, `${ref}.yaml`)])];
}

export type ProfileResult = { ok: true; profile: DeviceProfile; file: string } | { ok: false; problems: ConfigProblem[] };

export function loadProfile(ref: string, baseDir: string): ProfileResult {
  const candidates = profileCandidates(ref, baseDir);
  const file = candidates.find((c) => existsSync(c));
  if (!file) return { ok: false, problems: [{ path: '', message: `profile "${ref}" not found (looked in ${candidates.join(', ')})` }] };
  // The same size, token, nesting and alias limits as a config file.
  const read = readYamlFile(file);
  if (!read.ok) return { ok: false, problems: read.problems.map((p) => ({ path: '', message: `${file}: ${p.message}` })) };
  const parsed = profileSchema.safeParse(read.value, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: problemsFromZod(parsed.error).map((p) => ({ path: '', message: `${file}: ${p.path ? `${p.path}: ` : ''}${p.message}` })) };
  return { ok: true, profile: parsed.data, file };
}

/** Loads a profile that must be for `transport` (simulators, benchmarks and tests use this). */
export function requireProfile<T extends DeviceProfile['transport']>(ref: string, transport: T, baseDir = '/nonexistent'): Extract<DeviceProfile, { transport: T }> {
  const r = loadProfile(ref, baseDir);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  if (r.profile.transport !== transport) throw new Error(`profile ${ref} is for ${r.profile.transport}, not ${transport}`);
  return r.profile as Extract<DeviceProfile, { transport: T }>;
}
