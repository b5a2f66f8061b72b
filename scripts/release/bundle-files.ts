/**
 * What goes into a release bundle, file by file: the runtime part of dist (no source maps, no
 * build info, of dist/scripts only the release tools the apply step runs), the production
 * node_modules (package-lock.json's dev entries left out, so no `npm prune` and no network),
 * and the folders install.sh installs. Links are kept only where they stay inside the bundle.
 */
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { linkStaysInside, Refusal, sha256, type FileEntry } from './manifest.js';

/** What install.sh takes from a bundle (its ITEMS and DOC_ITEMS), plus itself and the release tools. */
export const BUNDLE_ITEMS = [
  'package.json',
  'dist/core',
  'dist/agent',
  'dist/config',
  'dist/drivers',
  'dist/flows',
  'dist/scripts/release',
  'config',
  'flows',
  'deploy',
  'scripts/install.sh',
  'node_modules',
  'README.md',
  'docs',
];

const lockSchema = z.object({
  packages: z.record(
    z.string(),
    z.object({ dev: z.boolean().optional(), devOptional: z.boolean().optional() }).loose(),
  ),
});

export interface Collected {
  files: Record<string, FileEntry>;
  links: Record<string, string>;
  bytes: number;
}

/** Whether a folder under node_modules is a package the lock file does not ship to production. */
function devOnly(rel: string, lock: z.infer<typeof lockSchema>['packages']): boolean {
  const parent = rel.split('/').slice(0, -1);
  const inModules =
    parent.at(-1) === 'node_modules' || (parent.at(-2) === 'node_modules' && parent.at(-1)!.startsWith('@'));
  if (!inModules || rel.split('/').at(-1)!.startsWith('@')) return false;
  const entry = lock[rel];
  // Not in the lock: extraneous. devOptional: a dev tool some package can use but does not need (typescript).
  return !entry || entry.dev === true || entry.devOptional === true;
}

const leftOut = (rel: string): boolean =>
  /\.(map|tsbuildinfo)$/.test(rel) ||
  rel.endsWith('/.bin') || // npm makes these at install; the agent never runs them
  rel === 'node_modules/.package-lock.json' ||
  rel === 'node_modules/.cache' ||
  // A native add-on's compiler output and sources: only the .node file loads (27 MB of 32 for SQLite).
  /^node_modules\/(.+\/)?build\/Release\/(obj|obj\.target|\.deps|test_extension\.node)$|\/build\/Release\/[^/]+\.a$/.test(
    rel,
  ) ||
  /^node_modules\/better-sqlite3\/(deps|src)$/.test(rel);

/** Copies the bundle's items from `from` into `to`, hashing each file as it is written. */
export function collect(from: string, to: string, items = BUNDLE_ITEMS): Collected {
  const lock = lockSchema.parse(JSON.parse(readFileSync(join(from, 'package-lock.json'), 'utf8'))).packages;
  const out: Collected = { files: {}, links: {}, bytes: 0 };
  const visit = (rel: string): void => {
    if (leftOut(rel)) return;
    const src = join(from, rel);
    const st = lstatSync(src);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(src);
      if (!linkStaysInside(rel, target)) throw new Refusal('BAD_PATH', `${rel} links to ${target}, outside the bundle`);
      mkdirSync(dirname(join(to, rel)), { recursive: true });
      symlinkSync(target, join(to, rel));
      out.links[rel] = target;
    } else if (st.isDirectory()) {
      if (rel.startsWith('node_modules/') && devOnly(rel, lock)) return;
      for (const name of readdirSync(src).sort()) visit(`${rel}/${name}`);
    } else if (st.isFile()) {
      mkdirSync(dirname(join(to, rel)), { recursive: true });
      copyFileSync(src, join(to, rel));
      // Group and others never write a release file; execute bits stay as they were.
      out.files[rel] = { sha256: sha256(readFileSync(join(to, rel))), size: st.size, mode: st.mode & 0o755 };
      out.bytes += st.size;
    } else throw new Refusal('BAD_PATH', `${rel} is neither a file, a folder nor a link`);
  };
  for (const item of items) if (lstatSync(join(from, item), { throwIfNoEntry: false })) visit(item);
  return out;
}
