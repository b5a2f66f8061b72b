/**
 * The CLI as installed is a bundle (scripts/build/bundle-cli.ts): dist/agent/cli.js and its
 * chunks. What would break it without any other test noticing: a chunk that reaches back into
 * the tsc output (a second copy of a module, with its own state), a dependency bundled that was
 * meant to load from node_modules (or the reverse), a chunk missing, or a file that a bundled
 * module finds beside itself (package.json, a built-in profile, the wire dictionary) looked for
 * next to the chunk instead of where the module's source sits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.js';
import { CHECKOUT } from './release-rig.js';

const tempDir = useTempDirs();
const AGENT = join(CHECKOUT, 'dist/agent');
const CLI = join(AGENT, 'cli.js');
const pkg = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};

/** The bundle's files: cli.js and every chunk. */
const bundleFiles = () => [
  CLI,
  ...readdirSync(join(AGENT, 'cli-chunks'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(AGENT, 'cli-chunks', f)),
];

/** Every module specifier a file imports, statically or dynamically (minified or not). */
const specifiers = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);

describe('the CLI bundle', () => {
  it('is an executable with the launcher line, and its chunks import only each other, node: and packages left outside', () => {
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
    expect(readFileSync(CLI, 'utf8').split('\n', 1)[0]).toMatch(/^#!\/usr\/bin\/env -S node --/);
    const bundled = ['zod', 'yaml', 'lowdb', 'sift', 'fast-xml-parser']; // bundle-cli.ts's BUNDLED
    const outside = Object.keys(pkg.dependencies).filter((d) => !bundled.includes(d));
    const seen = new Set<string>();
    for (const file of bundleFiles()) {
      for (const spec of specifiers(file)) {
        seen.add(spec);
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          expect(target.startsWith(join(AGENT, 'cli-chunks')) || target === CLI, `${file} imports ${spec}`).toBe(true);
          expect(existsSync(target), `${file} imports ${spec}, which is missing`).toBe(true);
          continue;
        }
        const dep = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        expect(outside, `${file} imports ${spec}`).toContain(dep);
      }
    }
    // What the bundle exists for: zod comes from inside it; the native add-on from outside.
    expect([...seen].filter((s) => s === 'zod' || s.startsWith('zod/'))).toEqual([]);
    expect(seen.has('better-sqlite3')).toBe(true);
  });

  it('finds what ships beside the modules: the version, the built-in profiles, the wire dictionary', () => {
    expect(execFileSync(CLI, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    // The example config's devices use built-in profiles, and its wire the preset dictionary.
    const example = join(CHECKOUT, 'config/gateway.example.yaml');
    expect(execFileSync(CLI, ['check-config', example, '--schema-only'], { encoding: 'utf8' })).toContain('valid');
    // plan compresses sample batches with the config's wire: it fails if the dictionary is not found.
    expect(execFileSync(CLI, ['plan', '--config', example], { encoding: 'utf8' })).toMatch(
      /^wire compact deflate-dict1/,
    );
    // Where the bundle looked for a profile it does not have: the checkout's config/profiles.
    const dir = tempDir();
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, readFileSync(example, 'utf8').replace(/profile: .*/g, 'profile: no-such-profile'));
    const refused = spawnSync(CLI, ['check-config', config, '--schema-only'], { encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stdout + refused.stderr).toContain(join(CHECKOUT, 'config/profiles/no-such-profile.yaml'));
  });
});
