/**
 * scripts/install.sh into a temporary root (`--root`), from this built checkout: run twice it
 * leaves the same tree; an upgrade to a newer release (the same build under another version)
 * while the installed agent's outbox is in the data folder keeps that folder and the config
 * byte for byte; a release that refuses the kept config is not switched to; rollback goes back.
 * The installed unit passes `systemd-analyze verify`. Needs root (chown to the service user),
 * as CI runs. The full run in a fresh Debian root is `npm run test:install`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL = join(CHECKOUT, 'scripts/install.sh');
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) =>
  lstatSync(p, { throwIfNoEntry: false }),
);

/** The root install.sh installs into, and a scratch folder beside it for releases and configs. */
const root = { dir: '', scratch: '', version: '' };
beforeAll(() => {
  root.dir = mkdtempSync(join(tmpdir(), 'vg-root-'));
  root.scratch = mkdtempSync(join(tmpdir(), 'vg-scratch-'));
  root.version = (JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { version: string }).version;
});
afterAll(() => {
  for (const d of [root.dir, root.scratch]) if (d) rmSync(d, { recursive: true, force: true });
}, 300_000); // three releases of about 10,000 files each, on a busy disk

function install(...args: string[]) {
  const r = spawnSync('bash', [INSTALL, '--root', root.dir, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Every entry under `dir`: type, mode, owner, link target, and a hash of each file's bytes. */
function tree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const st = lstatSync(join(dir, rel));
    const id = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(join(dir, rel))}`;
    else if (st.isDirectory()) {
      out[rel] = `dir ${id}`;
      for (const e of readdirSync(join(dir, rel))) if (!skip(join(rel, e))) walk(join(rel, e));
    } else
      out[rel] = `file ${id} ${createHash('sha256')
        .update(readFileSync(join(dir, rel)))
        .digest('hex')}`;
  };
  walk('.');
  return out;
}

/** A newer release: this build under another version (the folders are links; install.sh copies their content). */
function release(version: string): string {
  const dir = join(root.scratch, `release-${version}`);
  mkdirSync(dir, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  for (const item of ['dist', 'node_modules', 'config', 'flows', 'deploy', 'package-lock.json'])
    symlinkSync(join(CHECKOUT, item), join(dir, item));
  return dir;
}

/** Runs the installed release's agent on the installed data folder until it has stored `n` events, then SIGTERM. */
async function runInstalledAgent(n: number): Promise<void> {
  const cfg = join(root.scratch, 'agent.yaml');
  writeFileSync(
    cfg,
    stringify({
      version: 1,
      gateway: { id: 'gw-install' },
      dataDir: join(root.dir, 'var/lib/village-gateway'),
      log: { level: 'error' },
      mqtt: { url: 'mqtt://127.0.0.1:1', protocolVersion: 4 }, // no county: the events stay in the outbox
      devices: [{ id: 'door-1', driver: 'synthetic', rates: { doorPerSec: 50, buttonPerSec: 0, telemetryPerSec: 50 } }],
    }),
  );
  const cli = join(root.dir, 'opt/village-gateway/current/dist/agent/cli.js');
  const proc = spawn(process.execPath, [cli, 'run', '--config', cfg, '--print-stored'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stored = 0;
  proc.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    stored = output.split('\n').filter((l) => l.startsWith('stored ')).length;
    if (stored >= n) proc.kill('SIGTERM');
  });
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', resolve);
  });
  expect(code, output).toBe(0);
  expect(stored).toBeGreaterThanOrEqual(n);
}

const current = () => readlinkSync(join(root.dir, 'opt/village-gateway/current'));
const previous = () => readlinkSync(join(root.dir, 'opt/village-gateway/previous'));

/** A symlink at path (its target is absolute inside the test root, so existsSync cannot say). */
const linked = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

describe('scripts/install.sh', { timeout: 180_000 }, () => {
  it('installs, and a second run changes nothing', () => {
    const first = install();
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/installed an example config as .*\/etc\/village-gateway\/gateway\.yaml/);
    expect(current()).toBe(`releases/${root.version}`);
    const before = tree(root.dir);
    const again = install();
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`release ${root.version} is already installed (same build)`);
    expect(again.out).toContain('kept the config');
    expect(tree(root.dir)).toEqual(before);
    const passwd = readFileSync(join(root.dir, 'etc/passwd'), 'utf8');
    expect(passwd.match(/^village-gateway:/gm)).toHaveLength(1);
    const data = lstatSync(join(root.dir, 'var/lib/village-gateway'));
    expect(String(data.uid)).toBe(passwd.match(/^village-gateway:x:(\d+):/m)![1]);
    expect(data.mode & 0o777).toBe(0o750);
    const etc = lstatSync(join(root.dir, 'etc/village-gateway'));
    expect([etc.uid, etc.mode & 0o7777]).toEqual([0, 0o1770]); // root's; the agent adds only its own files
    // Dev tools are not shipped; the runtime's native modules are.
    const modules = readdirSync(join(root.dir, `opt/village-gateway/releases/${root.version}/node_modules`));
    expect(modules).toContain('better-sqlite3');
    expect(modules).not.toContain('vitest');
  });

  it('upgrades without touching the outbox or the config, and rolls back', async () => {
    await runInstalledAgent(50);
    const data = join(root.dir, 'var/lib/village-gateway');
    expect(readdirSync(data)).toContain('outbox.db');
    const config = join(root.dir, 'etc/village-gateway/gateway.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}# edited on site\n`);
    const dataBefore = tree(data);
    const configBefore = readFileSync(config);

    const up = install('--from', release('99.0.0'));
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain(`current release: 99.0.0 (was ${root.version})`);
    expect([current(), previous()]).toEqual(['releases/99.0.0', `releases/${root.version}`]);
    expect(tree(data)).toEqual(dataBefore);
    expect(readFileSync(config).equals(configBefore)).toBe(true);
    const cli = join(root.dir, 'opt/village-gateway/current/dist/agent/cli.js');
    expect(spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).stdout.trim()).toBe('99.0.0');

    const back = install('--rollback');
    expect(back.code, back.out).toBe(0);
    expect(back.out).toContain(`rolled back: 99.0.0 -> ${root.version}`);
    expect([current(), previous()]).toEqual([`releases/${root.version}`, 'releases/99.0.0']);
    expect(tree(data)).toEqual(dataBefore);
  });

  it('does not switch to a release that refuses the kept config', () => {
    const config = join(root.dir, 'etc/village-gateway/gateway.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}bogusKey: 1\n`);
    const was = current();
    const r = install('--from', release('99.1.0'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/error: release 99\.1\.0 does not accept .*gateway\.yaml \(nothing switched\)/);
    expect(r.out).toMatch(/bogusKey: unknown key/);
    expect(current()).toBe(was);
  });

  it.each(['village-gateway', 'village-gateway-flows'])(
    'installs %s.service, which systemd-analyze verify accepts',
    (name) => {
      expect(SYSTEMD_ANALYZE, 'systemd-analyze (Debian package systemd; the test preflight installs it)').toBeTruthy();
      const unit = readFileSync(join(root.dir, `etc/systemd/system/${name}.service`), 'utf8');
      expect(unit).toMatch(/^Environment=PATH=\/\S+:\/usr\/local\/bin:\/usr\/bin:\/bin$/m); // @NODE_DIR@ filled in
      // `systemctl help` opens the page the unit names: it is shipped in the release.
      const doc = unit.match(/^Documentation=file:\/\/(\S+)$/m)?.[1];
      expect(doc && existsSync(join(root.dir, doc)), `${doc} in the installed release`).toBe(true);
      // The agent starts at boot; the flows' unit only with it and only when the config asks (below).
      expect(linked(join(root.dir, `etc/systemd/system/multi-user.target.wants/${name}.service`))).toBe(
        name === 'village-gateway',
      );
      // systemd is not PID 1 here: verify the file against this machine's units, with the release path
      // pointing into the test root so that ExecStart's program is the installed one.
      const copy = join(root.scratch, `${name}.service`);
      writeFileSync(copy, unit.replaceAll('/opt/village-gateway/', `${root.dir}/opt/village-gateway/`));
      const r = spawnSync(SYSTEMD_ANALYZE!, ['verify', copy], { encoding: 'utf8' });
      expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    },
  );

  it("enables the flows' unit with the agent only when the config sets nodeRed.launch: systemd", () => {
    const config = join(root.dir, 'etc/village-gateway/gateway.yaml');
    const link = join(root.dir, 'etc/systemd/system/village-gateway.service.wants/village-gateway-flows.service');
    const was = readFileSync(config, 'utf8');
    const nodeRed = (launch: string) =>
      stringify({
        version: 1,
        gateway: { id: 'gw-install' },
        dataDir: '/var/lib/village-gateway',
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        nodeRed: {
          users: [{ username: 'tech', password: 'long-enough-pass' }],
          credentialSecret: 'c'.repeat(32),
          launch,
        },
      });
    writeFileSync(config, nodeRed('systemd'));
    let r = install();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("the flows' unit starts with the agent (nodeRed.launch: systemd)");
    expect(linked(link)).toBe(true);
    writeFileSync(config, nodeRed('spawn'));
    r = install();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("the flows' unit stays disabled");
    expect(linked(link)).toBe(false);
    writeFileSync(config, was); // as the tests after this one expect it
  });

  it("creates the flows' own user, whose group the agent joins (to hand it the channel's socket)", () => {
    const passwd = readFileSync(join(root.dir, 'etc/passwd'), 'utf8');
    const group = readFileSync(join(root.dir, 'etc/group'), 'utf8');
    const uid = (n: string) => new RegExp(`^${n}:[^:]*:(\\d+):`, 'm').exec(passwd)?.[1];
    expect(uid('village-gateway-flows')).toBeDefined();
    expect(uid('village-gateway-flows')).not.toBe(uid('village-gateway'));
    expect(group).toMatch(/^village-gateway-flows:[^:]*:\d+:(.*,)?village-gateway(,.*)?$/m);
  });

  it("keeps the flows' unit off the device buses: the IPAddressDeny drop-in beside it, from the config", () => {
    // The flows' own unit (installed by install.sh where the release ships it; here a stand-in).
    const unit = join(root.dir, 'etc/systemd/system/village-gateway-flows.service');
    writeFileSync(unit, '[Unit]\nDescription=village-gateway flows\n[Service]\nExecStart=/bin/true\n');
    const config = join(root.dir, 'etc/village-gateway/gateway.yaml');
    const withBus = (host: string) =>
      stringify({
        version: 1,
        gateway: { id: 'gw-install' },
        dataDir: '/var/lib/village-gateway',
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        buses: [{ id: 'field', type: 'modbus-tcp', host }],
      });
    writeFileSync(config, withBus('10.20.30.40'));
    const r = install();
    expect(r.code, r.out).toBe(0);
    const dropIn = join(`${unit}.d`, '10-deny-buses.conf');
    expect(r.out).toContain(`the flows may not reach the device buses: ${dropIn}`);
    expect(readFileSync(dropIn, 'utf8')).toMatch(/^\[Service\]\nIPAddressDeny=10\.20\.30\.40\n$/m);
    // systemd reads the unit with its drop-in (a bad assignment would be a warning on stderr).
    const copy = join(root.scratch, 'flows', 'village-gateway-flows.service');
    mkdirSync(`${copy}.d`, { recursive: true });
    writeFileSync(copy, readFileSync(unit));
    writeFileSync(join(`${copy}.d`, '10-deny-buses.conf'), readFileSync(dropIn));
    const v = spawnSync(SYSTEMD_ANALYZE!, ['verify', copy], { encoding: 'utf8' });
    expect({ code: v.status, stderr: v.stderr }).toEqual({ code: 0, stderr: '' });

    const again = install();
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain('may not reach the device buses'); // unchanged: not rewritten

    writeFileSync(config, withBus('no-such-plc.invalid'));
    const bad = install();
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(
      /the flows' unit cannot be kept off the device buses: .*host "no-such-plc\.invalid" does not resolve/,
    );
    expect(readFileSync(dropIn, 'utf8')).toContain('IPAddressDeny=10.20.30.40'); // the last good one stays
  });

  it('runs a release that carries its own Node on that Node, named through `current`, and rolls back off it', () => {
    const config = join(root.dir, 'etc/village-gateway/gateway.yaml');
    const minimal = { version: 1, gateway: { id: 'gw-install' }, dataDir: '/var/lib/village-gateway' };
    writeFileSync(config, stringify({ ...minimal, mqtt: { url: 'mqtt://127.0.0.1:1' } }));
    // The bundle's node/bin/node: this machine's Node behind a wrapper that says it ran.
    const bundled = release('99.2.0');
    const ran = join(root.scratch, 'bundled-node-ran');
    mkdirSync(join(bundled, 'node/bin'), { recursive: true });
    writeFileSync(join(bundled, 'node/bin/node'), `#!/bin/sh\necho "$*" >>${ran}\nexec ${process.execPath} "$@"\n`, {
      mode: 0o755,
    });
    const unitPath = () => readFileSync(join(root.dir, 'etc/systemd/system/village-gateway.service'), 'utf8');
    const flowsExec = () => readFileSync(join(root.dir, 'etc/systemd/system/village-gateway-flows.service'), 'utf8');
    // $NODE names a node that cannot run: the bundle's own wins.
    const env = { ...process.env, NODE: '/nonexistent/node' };
    const r = spawnSync('bash', [INSTALL, '--root', root.dir, '--from', bundled], { encoding: 'utf8', env });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(readFileSync(ran, 'utf8')).toMatch(/check-config .*--schema-only/); // it checked the kept config
    expect(readFileSync(ran, 'utf8')).toMatch(/cli\.js --version/); // and loaded the release
    expect(unitPath()).toContain('Environment=PATH=/opt/village-gateway/current/node/bin:/usr/local/bin');
    expect(flowsExec()).toContain('ExecStart=/opt/village-gateway/current/node/bin/node ');
    const installedNode = join(root.dir, 'opt/village-gateway/current/node/bin/node');
    expect(lstatSync(installedNode).isFile()).toBe(true);

    // The next release carries none: the system's Node again, and a rollback names the bundle's.
    const plain = install('--from', release('99.3.0'));
    expect(plain.code, plain.out).toBe(0);
    const systemDir = spawnSync('sh', ['-c', 'dirname "$(command -v node)"'], { encoding: 'utf8' }).stdout.trim();
    expect(unitPath()).toContain(`Environment=PATH=${systemDir}:/usr/local/bin`);
    const back = install('--rollback');
    expect(back.code, back.out).toBe(0);
    expect(back.out).toContain('rolled back: 99.3.0 -> 99.2.0 (node in /opt/village-gateway/current/node/bin)');
    expect(unitPath()).toContain('Environment=PATH=/opt/village-gateway/current/node/bin:/usr/local/bin');
  });
});
