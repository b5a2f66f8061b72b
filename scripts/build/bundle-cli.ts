/**
 * `npm run build`, second step: the CLI as installed (dist/agent/cli.js) is one bundle of what
 * tsc wrote for agent/cli-main.ts, with the modules it loads only on demand (the other commands,
 * each driver, the Node-RED wiring) in dist/agent/cli-chunks/.
 *
 * Why: memory. Of a ~65 MB idle agent on Node 20, zod alone was ~6 MB as loaded from its package
 * (all of it: locales, every check, the JSON Schema code); bundled, only what our schemas reach is
 * left, and minified names and whitespace shrink what V8 keeps of every function. Peak RSS of the
 * idle agent (a 1k backlog drained, the launcher's flags), measured on 2026-12-07: Node 20
 * 64.8-65.1 -> 59.6-61.3 MB, Node 24 74.0-74.1 -> 69.4-69.5 MB (docs/development.md, "Memory").
 *
 * What stays outside (loaded from node_modules as before): native add-ons and what loads them
 * (better-sqlite3, serialport, modbus-serial), Node-RED (it runs in a child process of its own),
 * pino (it finds its transports by file), and mqtt, whose ES module build is a browser bundle that
 * cost ~8 MB more than its CommonJS build. Any new runtime dependency stays outside unless it is
 * named in BUNDLED. Names of functions and classes are kept (error names in the logs); a source
 * map is written beside the bundle for `node --enable-source-maps` (the release leaves maps out).
 *
 * The tsc output stays as it is: the scripts, the Node-RED child and the tests use it, and
 * `node dist/agent/cli-main.js` runs the same CLI unbundled.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'rolldown';
import { PACKAGE_ROOT } from '../../core/kernel/package-root.js';

/** Pure-JavaScript runtime dependencies that go into the bundle. */
const BUNDLED = new Set(['zod', 'yaml', 'lowdb', 'sift', 'fast-xml-parser']);

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const outside = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d));
/** A bare import of `dep` or of a file in it (`node-red/package.json`). */
const isOutside = (id: string) => outside.some((d) => id === d || id.startsWith(`${d}/`));

const outDir = join(PACKAGE_ROOT, 'dist/agent');
const keepNames = { function: true, class: true };
rmSync(join(outDir, 'cli-chunks'), { recursive: true, force: true }); // no stale chunk ships

await build({
  input: join(outDir, 'cli-main.js'),
  platform: 'node',
  external: (id) => id.startsWith('node:') || isOutside(id),
  logLevel: 'warn',
  output: {
    dir: outDir,
    format: 'esm',
    entryFileNames: 'cli.js',
    chunkFileNames: 'cli-chunks/[name]-[hash].js',
    sourcemap: true,
    minify: { mangle: { keepNames }, compress: { keepNames } },
  },
});
