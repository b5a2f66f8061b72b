/**
 * The root-side apply step refuses what the county did not sign, in a root installed from a
 * signed 1.0.0 bundle: a changed file, a signature by another key, a signature over another
 * manifest, a key the agent could have put there, paths out of the release, a staged link.
 * Each refusal switches nothing, installs nothing, removes the staged folder and leaves a
 * result the agent reports (update.refused) with the refusal's code. A good code-only update
 * (one file staged, everything else reused from the running release) is installed beside it.
 * Needs root (install.sh chowns to the service user), as CI runs.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/wait.js';
import {
  applyNow,
  currentVersion,
  makeRig,
  packageJson,
  readResult,
  run,
  stageUpdate,
  trustKey,
  type Rig,
} from './release-rig.js';

let rig: Rig;
beforeAll(() => {
  rig = makeRig();
}, 300_000);
afterAll(() => rmSync(rig.scratch, { recursive: true, force: true }), 120_000);

const releases = () => readdirSync(join(rig.opt, 'releases')).sort();

function expectRefused(code: string, reason: RegExp) {
  const r = applyNow(rig);
  expect(r.code, r.out).toBe(1);
  expect(readResult(rig)).toMatchObject({ outcome: 'refused', from: '1.0.0', code });
  expect(String(readResult(rig).reason)).toMatch(reason);
  expect(currentVersion(rig)).toBe('1.0.0');
  expect(releases()).toEqual(['1.0.0']); // nothing installed, no stage left behind
  expect(existsSync(join(rig.data, 'update/ready'))).toBe(false);
}

describe('the apply step refuses', () => {
  it('a staged file whose bytes are not the signed ones', () => {
    const cli = join('dist/agent/cli.js');
    stageUpdate(
      rig,
      '1.0.1',
      { 'package.json': packageJson(rig, '1.0.1'), [cli]: Buffer.from('// good\n') },
      {
        overwrite: { [cli]: Buffer.from('// evil\n') },
      },
    );
    expectRefused('FILE_MISMATCH', /dist\/agent\/cli\.js: its sha256 is not the signed one/);
  });

  it('a manifest signed by another key', () => {
    const other = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    stageUpdate(rig, '1.0.1', { 'package.json': packageJson(rig, '1.0.1') }, { signWith: other });
    expectRefused('BAD_SIGNATURE', /not the county key's signature/);
  });

  it('a signature over a different manifest (the county signed 1.0.1, the folder says 1.0.2)', () => {
    stageUpdate(
      rig,
      '1.0.1',
      { 'package.json': packageJson(rig, '1.0.1') },
      {
        afterSigning: (m) => ({ ...m, version: '1.0.2' }),
      },
    );
    expectRefused('BAD_SIGNATURE', /not the county key's signature/);
  });

  it('a key that is not root-owned (the agent can create files in /etc/village-gateway)', () => {
    const own = generateKeyPairSync('ed25519');
    const pem = (k: typeof own.privateKey, type: 'pkcs8' | 'spki') => k.export({ type, format: 'pem' }).toString();
    try {
      trustKey(rig, pem(own.publicKey, 'spki'), 999); // the agent's own key, signed with its own private key
      stageUpdate(
        rig,
        '1.0.1',
        { 'package.json': packageJson(rig, '1.0.1') },
        { signWith: pem(own.privateKey, 'pkcs8') },
      );
      expectRefused('KEY_UNTRUSTED', /not a root-owned file only root can write/);
    } finally {
      trustKey(rig, run('cat', [rig.key.publicFile]).out);
    }
  });

  it('signed paths out of the release: absolute, "..", and a link that leaves it', () => {
    for (const evil of ['/etc/cron.d/x', '../../../etc/cron.d/x', 'dist/../../x']) {
      stageUpdate(
        rig,
        '1.0.1',
        {},
        {
          beforeSigning: (m) => ({
            ...m,
            files: { ...m.files, [evil]: { sha256: 'a'.repeat(64), size: 1, mode: 0o644 } },
          }),
        },
      );
      expectRefused('BAD_MANIFEST', /path .*(absolute|segment)/);
    }
    stageUpdate(rig, '1.0.1', {}, { beforeSigning: (m) => ({ ...m, links: { 'dist/x': '../../../etc' } }) });
    expectRefused('BAD_MANIFEST', /link dist\/x -> \.\.\/\.\.\/\.\.\/etc leaves the release/);
  });

  it('a staged file reached through a link, even with the signed bytes behind it', () => {
    const ready = stageUpdate(rig, '1.0.1', { 'package.json': packageJson(rig, '1.0.1') });
    // The same bytes, but behind a link to a file of root's: never read through it.
    const elsewhere = join(rig.scratch, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    run('cp', [join(ready, 'package.json'), join(elsewhere, 'package.json')]);
    rmSync(join(ready, 'package.json'));
    symlinkSync(join(elsewhere, 'package.json'), join(ready, 'package.json'));
    expectRefused('BAD_PATH', /staged package\.json is not a regular file/);
  });

  it('the release that already runs', () => {
    stageUpdate(rig, '1.0.0', {});
    expectRefused('SAME_VERSION', /release 1\.0\.0 already runs/);
  });
});

/** No agent runs in this root: every switch fails its probation and goes back to 1.0.0. */
function expectRolledBack(to: string) {
  expect(readResult(rig)).toMatchObject({ outcome: 'rolled_back', from: '1.0.0', to, code: 'PROBATION_FAILED' });
  expect(currentVersion(rig)).toBe('1.0.0');
}

describe('a good code-only update', () => {
  it('is assembled from one staged file and the running release, installed beside it and switched to', () => {
    stageUpdate(rig, '1.0.1', { 'package.json': packageJson(rig, '1.0.1') });
    const r = applyNow(rig); // no agent runs here: the probation fails and it is switched back
    expect(r.out).toMatch(/1\.0\.1: 1 files \(\d+ bytes\) from the update, \d+ from 1\.0\.0/);
    expect(r.out).toContain('install: current release: 1.0.1 (was 1.0.0)');
    expect(r.code, r.out).toBe(2);
    expectRolledBack('1.0.1');
    expect(releases()).toEqual(['1.0.0', '1.0.1']);
    // The installed 1.0.1 runs: install.sh checked it with --version before switching.
    const v = run(process.execPath, [join(rig.opt, 'releases/1.0.1/dist/agent/cli.js'), '--version']);
    expect(v.out.trim()).toBe('1.0.1');
  });

  it('killed during its probation, the step is run again (the staged folder is still there) and judges again', async () => {
    stageUpdate(rig, '1.0.3', { 'package.json': packageJson(rig, '1.0.3') });
    const step = join(rig.opt, 'current/dist/scripts/release/apply-update.js');
    const first = spawn(process.execPath, [step, '--root', rig.root, '--probation', '60'], { stdio: 'ignore' });
    const gone = new Promise((resolve) => first.once('exit', resolve));
    await waitUntil(() => currentVersion(rig) === '1.0.3', 120_000, 'the switch to 1.0.3');
    first.kill('SIGKILL'); // a power cut in the window: 1.0.3 runs, unjudged
    await gone;
    expect(existsSync(join(rig.opt, '.update-pending.json'))).toBe(true);
    expect(existsSync(join(rig.data, 'update/ready'))).toBe(true);

    const again = applyNow(rig);
    expect(again.out).toContain('1.0.3 was switched to but not judged (this step was stopped): judging it again');
    expect(again.code, again.out).toBe(2);
    expectRolledBack('1.0.3');
    expect(existsSync(join(rig.opt, '.update-pending.json'))).toBe(false);
    expect(existsSync(join(rig.data, 'update/ready'))).toBe(false);
  }, 240_000);
});
