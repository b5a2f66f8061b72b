/**
 * make-bundle: a bundle built from this checkout holds the runtime files with their sha256,
 * size and mode, no dev packages, source maps or compiler output, and a manifest.sig that is
 * the county key's ed25519 signature over manifest.json's exact bytes; the bundled CLI runs.
 * A link out of the checkout is refused; a path out of a release never passes the manifest's
 * schema; the delta for a version bump carries only what changed.
 */
import { createPublicKey, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keygen } from '../../scripts/release/keygen.js';
import { makeBundle, type BundleResult } from '../../scripts/release/make-bundle.js';
import {
  checkRelPath,
  linkStaysInside,
  manifestSchema,
  sha256,
  type Manifest,
} from '../../scripts/release/manifest.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { CHECKOUT, run } from './release-rig.js';

const tempDir = useTempDirs();
const built = {
  dir: '',
  key: { privateFile: '', publicFile: '' },
  bundle: null as BundleResult | null,
  manifest: null as Manifest | null,
};
beforeAll(() => {
  built.dir = mkdtempSync(join(tmpdir(), 'vg-bundle-'));
  built.key = keygen(join(built.dir, 'county'));
  built.bundle = makeBundle({
    from: CHECKOUT,
    out: join(built.dir, 'out'),
    key: built.key.privateFile,
    version: '2.0.0',
    tar: true,
  });
  built.manifest = manifestSchema.parse(JSON.parse(readFileSync(join(built.bundle.dir, 'manifest.json'), 'utf8')));
}, 300_000);
afterAll(() => rmSync(built.dir, { recursive: true, force: true }), 120_000);

describe('make-bundle', () => {
  it('signs manifest.json byte for byte with the county key', () => {
    const bytes = readFileSync(join(built.bundle!.dir, 'manifest.json'));
    const sig = Buffer.from(readFileSync(join(built.bundle!.dir, 'manifest.sig'), 'utf8').trim(), 'base64');
    const key = createPublicKey(readFileSync(built.key.publicFile, 'utf8'));
    expect(verify(null, bytes, key, sig)).toBe(true);
    const changed = Buffer.from(bytes);
    changed.writeUInt8(changed.readUInt8(10) ^ 1, 10); // one bit of the manifest
    expect(verify(null, changed, key, sig)).toBe(false);
  });

  it('lists every runtime file with its sha256, size and mode, and leaves dev packages, maps and build output out', () => {
    const m = built.manifest!;
    expect(m).toMatchObject({ v: 1, version: '2.0.0', arch: process.arch, node: 'system' });
    const paths = Object.keys(m.files);
    for (const need of [
      'package.json',
      'dist/agent/cli.js',
      'dist/scripts/release/apply-update.js',
      'scripts/install.sh',
      'deploy/village-gateway-update.path',
    ])
      expect(paths).toContain(need);
    expect(paths.some((p) => p.startsWith('node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    for (const gone of [
      /^node_modules\/(vitest|typescript|eslint)\//,
      /\.map$/,
      /\/build\/Release\/obj/,
      /^dist\/scripts\/(demo|bench)/,
      /^test\//,
    ])
      expect(paths.filter((p) => gone.test(p)).slice(0, 3), String(gone)).toEqual([]);
    for (const p of ['dist/agent/cli.js', 'node_modules/zod/package.json', 'package.json']) {
      const bytes = readFileSync(join(built.bundle!.dir, p));
      expect(m.files[p]).toEqual({ sha256: sha256(bytes), size: bytes.length, mode: expect.any(Number) as number });
    }
    expect(m.files['dist/agent/cli.js']!.mode & 0o111).not.toBe(0); // the CLI stays executable
    expect(Object.values(m.files).every((f) => (f.mode & 0o022) === 0)).toBe(true);
    expect(built.bundle!.tar!.bytes).toBeGreaterThan(1_000_000);
  });

  it('builds a release that runs: the bundled CLI reports the bundle version', () => {
    const r = run(process.execPath, [join(built.bundle!.dir, 'dist/agent/cli.js'), '--version']);
    expect({ code: r.code, out: r.out.trim() }).toEqual({ code: 0, out: '2.0.0' });
  });

  it('writes a delta of only what changed for a version bump', () => {
    const next = makeBundle({
      from: CHECKOUT,
      out: join(built.dir, 'out'),
      key: built.key.privateFile,
      version: '2.0.1',
      deltaFrom: join(built.bundle!.dir, 'manifest.json'),
    });
    expect(next.delta!.files).toBe(1); // package.json: nothing else differs
    expect(run('find', [next.delta!.dir, '-type', 'f']).out.split('\n').filter(Boolean).sort()).toEqual(
      ['manifest.json', 'manifest.json.gz', 'manifest.sig', 'package.json'].map((f) => join(next.delta!.dir, f)),
    );
  });

  it('refuses a link that leaves the checkout', () => {
    const from = tempDir();
    mkdirSync(join(from, 'dist/agent'), { recursive: true });
    writeFileSync(join(from, 'package.json'), '{"version":"1.0.0"}');
    writeFileSync(join(from, 'package-lock.json'), '{"packages":{}}');
    writeFileSync(join(from, 'dist/agent/cli.js'), '');
    symlinkSync('cli.js', join(from, 'dist/agent/inside.js'));
    const ok = makeBundle({ from, out: join(from, 'out'), key: built.key.privateFile });
    const m = manifestSchema.parse(JSON.parse(readFileSync(join(ok.dir, 'manifest.json'), 'utf8')));
    expect(m.links).toEqual({ 'dist/agent/inside.js': 'cli.js' });
    symlinkSync('/etc/passwd', join(from, 'dist/agent/outside.js'));
    expect(() => makeBundle({ from, out: join(from, 'out'), key: built.key.privateFile })).toThrow(
      /dist\/agent\/outside\.js links to \/etc\/passwd, outside the bundle/,
    );
  });
});

describe('release paths', () => {
  it.each([
    ['/etc/passwd', 'absolute'],
    ['../x', 'segment'],
    ['dist/../../x', 'segment'],
    ['dist//x', 'segment'],
    ['./dist/x', 'segment'],
    ['dist\\x', 'backslash'],
    ['', 'empty'],
  ])('refuses %j', (p, why) => {
    expect(checkRelPath(p)).toMatch(why);
  });

  it('accepts release paths and links that stay inside', () => {
    expect(checkRelPath('node_modules/@scope/pkg/index.js')).toBeNull();
    expect(linkStaysInside('node_modules/.bin/x', '../x/cli.js')).toBe(true);
    expect(linkStaysInside('node_modules/x', '../../etc')).toBe(false);
    expect(linkStaysInside('a', '/etc')).toBe(false);
  });
});
