/**
 * Builds a signed release bundle from a built checkout (`npm ci && npm run build`):
 *
 *   node dist/scripts/release/make-bundle.js --key county-update.key [--from DIR] [--out DIR]
 *     [--version V] [--arch A] [--node NODE_DIST_DIR] [--tar] [--delta-from OLD_MANIFEST]
 *
 * writes OUT/village-gateway-<version>-<arch>/ with the release's files, manifest.json (every
 * file's sha256, size and mode), manifest.sig (ed25519 over manifest.json's exact bytes) and
 * manifest.json.gz (what a gateway fetches of the manifest).
 * --tar adds <name>.tar.gz (gzip -6). --delta-from writes <name>-delta/: the manifest, the
 * signature and only the files whose sha256 is not in the given (installed) release's manifest:
 * what a gateway has to receive for a code-only update. --version re-labels the same build
 * (tests, a rebuilt release). Prints a JSON summary.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { collect } from './bundle-files.js';
import { MANIFEST, manifestSchema, SIGNATURE, sha256, signManifest, type Manifest } from './manifest.js';
import { MANIFEST_GZ } from '../../core/contracts/release-manifest.js';
import { isMain } from './is-main.js';

const optionsSchema = z.strictObject({
  from: z.string().default('.'),
  out: z.string().default('release-out'),
  key: z.string({ error: '--key FILE (the county private key, PEM) is required' }),
  version: z
    .string()
    .regex(/^[0-9A-Za-z.+-]{1,64}$/)
    .optional(),
  arch: z
    .string()
    .regex(/^[a-z0-9_]{1,16}$/)
    .default(process.arch),
  node: z.string().optional(),
  tar: z.boolean().default(false),
  deltaFrom: z.string().optional(),
});
export type BundleOptions = z.input<typeof optionsSchema>;

export interface BundleResult {
  dir: string;
  version: string;
  files: number;
  bytes: number;
  tar?: { file: string; bytes: number };
  delta?: { dir: string; files: number; bytes: number };
}

/** The version of a Node distribution folder, without running it (it may be another CPU's). */
function nodeVersion(dir: string): string {
  const header = readFileSync(join(dir, 'include/node/node_version.h'), 'utf8');
  const v = ['MAJOR', 'MINOR', 'PATCH'].map((n) => new RegExp(`#define NODE_${n}_VERSION (\\d+)`).exec(header)?.[1]);
  if (v.some((x) => x === undefined)) throw new Error(`${dir} has no readable include/node/node_version.h`);
  return v.join('.');
}

export function makeBundle(input: BundleOptions): BundleResult {
  const o = optionsSchema.parse(input);
  const from = resolve(o.from);
  const pkg = z
    .looseObject({ version: z.string() })
    .parse(JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')));
  const version = o.version ?? pkg.version;
  const name = `village-gateway-${version}-${o.arch}`;
  const dir = join(resolve(o.out), name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const got = collect(from, dir);
  if (o.version) {
    const text = JSON.stringify({ ...pkg, version }, null, 2) + '\n';
    writeFileSync(join(dir, 'package.json'), text);
    got.files['package.json'] = { sha256: sha256(Buffer.from(text)), size: Buffer.byteLength(text), mode: 0o644 };
  }
  let node = 'system';
  if (o.node) {
    node = nodeVersion(o.node);
    mkdirSync(join(dir, 'node/bin'), { recursive: true });
    copyFileSync(join(o.node, 'bin/node'), join(dir, 'node/bin/node'));
    const bytes = readFileSync(join(dir, 'node/bin/node'));
    got.files['node/bin/node'] = { sha256: sha256(bytes), size: bytes.length, mode: 0o755 };
  }
  const manifest: Manifest = manifestSchema.parse({
    v: 1,
    version,
    arch: o.arch,
    node,
    createdAt: new Date().toISOString(),
    files: got.files,
    links: got.links,
  });
  const bytes = Buffer.from(JSON.stringify(manifest) + '\n');
  const sig = signManifest(bytes, readFileSync(o.key, 'utf8'));
  writeFileSync(join(dir, MANIFEST), bytes);
  writeFileSync(join(dir, SIGNATURE), sig);
  writeFileSync(join(dir, MANIFEST_GZ), gzipSync(bytes, { level: 9 }));
  const result: BundleResult = { dir, version, files: Object.keys(got.files).length, bytes: got.bytes };
  if (o.tar) {
    const file = `${dir}.tar.gz`;
    const r = spawnSync('sh', ['-c', 'tar -C "$1" -cf - "$2" | gzip -6 > "$3"', 'sh', dirname(dir), name, file]);
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
    result.tar = { file, bytes: statSync(file).size };
  }
  if (o.deltaFrom) result.delta = writeDelta(dir, manifest, o.deltaFrom);
  return result;
}

/** The folder a gateway receives for an update: the signed manifest and only the files it lacks. */
export function writeDelta(dir: string, manifest: Manifest, installedManifest: string): BundleResult['delta'] {
  const have = new Set(
    Object.values(manifestSchema.parse(JSON.parse(readFileSync(installedManifest, 'utf8'))).files).map((f) => f.sha256),
  );
  const out = `${dir}-delta`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  copyFileSync(join(dir, MANIFEST), join(out, MANIFEST));
  copyFileSync(join(dir, SIGNATURE), join(out, SIGNATURE));
  copyFileSync(join(dir, MANIFEST_GZ), join(out, MANIFEST_GZ));
  let files = 0;
  let bytes = statSync(join(out, MANIFEST_GZ)).size; // what a gateway fetches of it
  for (const [path, f] of Object.entries(manifest.files)) {
    if (have.has(f.sha256)) continue;
    mkdirSync(dirname(join(out, path)), { recursive: true });
    copyFileSync(join(dir, path), join(out, path));
    files += 1;
    bytes += f.size;
  }
  return { dir: out, files, bytes };
}

function parseArgs(argv: string[]): BundleOptions {
  const o: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)$/.exec(argv[i]!);
    if (!m) throw new Error(`unexpected argument ${argv[i]} (see the header of make-bundle.ts)`);
    const key = m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (key === 'tar') o.tar = true;
    else o[key] = argv[++i] ?? '';
  }
  return o as BundleOptions;
}

if (isMain(import.meta.url)) {
  try {
    console.log(JSON.stringify(makeBundle(parseArgs(process.argv.slice(2))), null, 2));
  } catch (err) {
    console.error(`make-bundle: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}`);
    process.exit(1);
  }
}
