/**
 * The test preflight (scripts/test-preflight.mjs) run as `npm test` runs it: a child Node
 * process, here with a PATH we build. VG_PREFLIGHT_INSTALL=never in every run: as root with
 * apt-get, a missing program would otherwise really be installed.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const PREFLIGHT = fileURLToPath(new URL('../../scripts/test-preflight.mjs', import.meta.url));

const runnable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Where `program` is on this machine (the suite is running, so the preflight found it). */
function locate(program: string, also: string[] = []): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const hit = [...dirs.map((d) => join(d, program)), ...also].find(runnable);
  if (!hit) throw new Error(`${program} is not installed here, yet the preflight let the suite run`);
  return hit;
}

function preflight(path: string) {
  const r = spawnSync(process.execPath, [PREFLIGHT], {
    env: { ...process.env, PATH: path, VG_PREFLIGHT_INSTALL: 'never' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('test preflight', () => {
  it('stops with exit 1, naming socat and the one command to run, when socat is not on PATH', () => {
    const bin = tempDir();
    // Everything else the tests need is there: mosquitto (also found in /usr/sbin) and openssl.
    symlinkSync(locate('openssl'), join(bin, 'openssl'));
    symlinkSync(locate('mosquitto', ['/usr/sbin/mosquitto']), join(bin, 'mosquitto'));
    const r = preflight(bin);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/the tests need socat \(not found on PATH; not installing: VG_PREFLIGHT_INSTALL=never\)/);
    expect(r.stderr).toMatch(/^ {2}(sudo )?apt-get install -y socat$/m); // only what is missing
    expect(r.stderr).not.toMatch(/mosquitto|openssl/);
  });

  it('names every missing program in one command', () => {
    const bin = tempDir();
    symlinkSync(locate('mosquitto', ['/usr/sbin/mosquitto']), join(bin, 'mosquitto'));
    const r = preflight(bin);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the tests need socat, openssl \(/);
    expect(r.stderr).toMatch(/^ {2}(sudo )?apt-get install -y socat openssl$/m);
  });

  it('exits 0 and says nothing when everything is there', () => {
    const r = preflight(process.env.PATH ?? '');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
