/**
 * Preset deflate dictionaries (RFC 1951 with a preset history: zlib's `dictionary`, Python's
 * `zdict`) for compact batches, by compression name. A dictionary is part of the wire
 * contract: the county inflates with the very bytes the gateway deflated with, so each one is
 * a file under config/wire/ that never changes once shipped (its sha256 is pinned here; a
 * damaged or edited file is refused rather than silently making batches nobody can read). A
 * better dictionary is a new name (`deflate-dict2`) beside the old one, so a county that reads
 * dict1 keeps reading it.
 *
 * `deflate-dict1` (scripts/wire-dictionary.ts made it from the event catalogue's shapes):
 * the keys of every catalogued type's data, the field names of rtl_433 records, the compact
 * batch's own skeleton and a health event's group. Measured on the bytes bench's village: a
 * batch of 20 readings deflates to ~16 % fewer bytes with it, a health event alone to ~40 %.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../kernel/errors.js';
import { PACKAGE_ROOT } from '../kernel/package-root.js';

export const DICTIONARIES = {
  'deflate-dict1': {
    file: 'config/wire/deflate-dict1.txt',
    sha256: '8f6395c87445a53cde8a274c0ba126be31ea1622870c9aa53dcdee5c44b6a4c8',
  },
} as const;
export type DictionaryName = keyof typeof DICTIONARIES;

const loaded = new Map<DictionaryName, Buffer>();

/** The file, under the package root (config/wire/, beside the sources and in a release). */
export function dictionaryPath(name: DictionaryName): string {
  return join(PACKAGE_ROOT, DICTIONARIES[name].file);
}

/** The dictionary's bytes, read once and checked against its pinned sha256. */
export function wireDictionary(name: DictionaryName): Buffer {
  const cached = loaded.get(name);
  if (cached) return cached;
  const file = dictionaryPath(name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new GatewayError('CONFIG_CANNOT_RUN', `the ${name} dictionary (${file}) cannot be read`, { cause: err });
  }
  verifyDictionary(name, bytes, file);
  loaded.set(name, bytes);
  return bytes;
}

/** Refuses bytes that are not the shipped dictionary (CONFIG_CANNOT_RUN, naming the file and both digests). */
export function verifyDictionary(name: DictionaryName, bytes: Uint8Array, file: string): void {
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== DICTIONARIES[name].sha256)
    throw new GatewayError(
      'CONFIG_CANNOT_RUN',
      `the ${name} dictionary (${file}) is not the shipped one (sha256 ${sha}, expected ${DICTIONARIES[name].sha256}): reinstall the release`,
    );
}
