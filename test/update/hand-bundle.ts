/** A small hand-made release bundle (as make-bundle lays one out) for the update tests, in memory or on disk. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sha256 } from '../../scripts/release/manifest.js';

export const FILES = {
  'dist/agent/new.js': Buffer.from('export const x = 1;\n'),
  'lib/data.txt': Buffer.alloc(200_000, 'v'), // several chunks on the wire
};

/** The bundle's files by path; the manifest names `files`' bytes, `overwrite` puts others on the wire. The signature is not checked by the agent. */
export function bundle(
  version: string,
  overwrite: Record<string, Buffer> = {},
  files: Record<string, Buffer> = FILES,
): Map<string, Buffer> {
  const entries = Object.fromEntries(
    Object.entries(files).map(([p, b]) => [p, { sha256: sha256(b), size: b.length, mode: 0o644 }]),
  );
  const manifest = {
    v: 1,
    version,
    arch: 'x64',
    node: 'system',
    createdAt: new Date().toISOString(),
    files: entries,
    links: {},
  };
  const bytes = Buffer.from(JSON.stringify(manifest) + '\n');
  return new Map([
    ['manifest.json', bytes],
    ['manifest.json.gz', gzipSync(bytes)], // what the agent asks for first (make-bundle writes it)
    ['manifest.sig', Buffer.from(Buffer.alloc(64, 7).toString('base64') + '\n')],
    ...Object.entries({ ...files, ...overwrite }),
  ]);
}

/** Writes a bundle's files under `dir`; returns `dir`. */
export function writeBundle(dir: string, files: Map<string, Buffer>): string {
  for (const [path, bytes] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

/** The regular files under `dir`, relative, sorted. */
export function listed(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}
