/**
 * Where our files are on disk, for the modules that read a file shipped beside them (package.json,
 * the built-in profiles, the wire dictionary, the Node-RED child and flows, a release's manifest).
 *
 * `import.meta.url` alone cannot say: the CLI runs as a bundle (dist/agent/cli.js and its
 * dist/agent/cli-chunks/, made by scripts/build/bundle-cli.ts), where a module's URL is its
 * chunk's, not the folder its source sits in. The package root is the first folder upward that
 * holds a package.json, which holds for the sources (tests), for dist/ as tsc writes it, and for
 * the bundle. The data files (config/, flows/) are never copied into dist/, so each has one place
 * under the root, built or not, and so does the Node-RED child (dist/flows/runtime/child.js).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The first folder upward from `start` with a package.json. Every layout we ship has one (the
 * release bundle carries it); without one the folder above `start` is the answer, and each file
 * looked for there is then reported missing by whoever needed it.
 */
function findRoot(start: string): string {
  for (let dir = start; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return dirname(start);
}

/** The folder holding package.json: the checkout, or the release folder as installed. */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
