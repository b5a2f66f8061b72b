/**
 * `npm run test:install`: scripts/install.sh in a fresh Debian 12 root made with debootstrap
 * (minbase, from the Debian mirror in this machine's apt sources), entered with chroot. Root
 * only; a few minutes; not part of `npm test`.
 *
 * Inside: Debian's own nodejs (18) is refused with a clear message; then, with Node 20 (this
 * machine's binary copied in, as a Pi would have it from NodeSource or nodejs.org), install
 * twice (the same tree), run the installed agent as the service user, `village-gateway status`
 * as root (the command drops to the service user), an upgrade that keeps the outbox byte for
 * byte, and `systemd-analyze verify` of the unit with the chroot's own systemd 252.
 * Then the root is booted: its systemd runs as PID 1 of a new pid and mount namespace (the
 * root bind-mounted on itself, so that the unit's sandboxing can set up its mounts) and starts
 * the unit as on a Pi: READY=1 makes it active, WATCHDOG=1 pings keep it so past WatchdogSec,
 * a frozen agent (SIGSTOP) is killed by the watchdog and restarted, `systemctl stop` is clean.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { BootedRoot, sleepSync } from '../helpers/booted-root.js';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vg-debian-'));
const ROOT = join(dir, 'root');
const timings: [string, number][] = [];

function mirror(): string {
  const env = process.env.VG_DEBIAN_MIRROR;
  if (env) return env;
  const sources = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  return /(?:URIs:|deb)\s+(https?:\/\/\S+\/debian)\b/.exec(sources)?.[1] ?? 'http://deb.debian.org/debian';
}

/** Runs a command; returns its exit code and output. */
function run(cmd: string, args: string[], cwd = '/') {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** A shell line inside the chroot, as root, with a clean PATH (Node 20 in /usr/local/bin first). */
const inRoot = (line: string, path = '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin') =>
  run('chroot', [ROOT, '/usr/bin/env', '-i', `PATH=${path}`, 'HOME=/root', 'LANG=C.UTF-8', 'bash', '-c', line]);

function must(r: { code: number | null; out: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.out.slice(-4000)}`);
  return r.out;
}

function timed<T>(what: string, fn: () => T): T {
  const t = performance.now();
  try {
    return fn();
  } finally {
    timings.push([what, Math.round((performance.now() - t) / 100) / 10]);
  }
}

/** What the install left in the root, for comparing two runs (owners and modes as the chroot sees them). */
const installedTree = () =>
  must(
    inRoot(
      'find /opt/village-gateway /etc/village-gateway /var/lib/village-gateway /etc/systemd/system /usr/local/bin/village-gateway -printf "%p %y %m %u:%g %l\\n" | grep -v "/releases/[^/]*/." | sort; sha256sum /etc/passwd /etc/group /etc/village-gateway/* /usr/local/bin/village-gateway /etc/systemd/system/village-gateway.service',
    ),
    'listing the install',
  );

const dataFiles = () =>
  must(
    inRoot(
      'cd /var/lib/village-gateway && find . -printf "%p %y %m %u:%g\\n" | sort && find . -type f | sort | xargs sha256sum',
    ),
    'hashing the data folder',
  );

let procMounted = false;
const booted = new BootedRoot(ROOT);
afterAll(() => {
  booted.kill();
  if (procMounted) run('umount', [join(ROOT, 'proc')]);
  // Never remove a tree with something still mounted in it.
  if (!readFileSync('/proc/mounts', 'utf8').includes(dir)) rmSync(dir, { recursive: true, force: true });
  console.log(`\ntimings (s):\n${timings.map(([w, s]) => `  ${String(s).padStart(6)}  ${w}`).join('\n')}`);
}, 300_000);

describe('install.sh in a fresh Debian root', { timeout: 1_800_000 }, () => {
  it('refuses an old Node, installs twice to the same tree, runs, reports, upgrades keeping the outbox', () => {
    expect(process.getuid?.(), 'debootstrap and chroot need root').toBe(0);
    const url = mirror();
    timed(`debootstrap --variant=minbase bookworm (${url})`, () =>
      must(run('debootstrap', ['--variant=minbase', 'bookworm', ROOT, url]), 'debootstrap'),
    );
    must(run('mount', ['-t', 'proc', 'proc', join(ROOT, 'proc')]), 'mounting /proc');
    procMounted = true;
    cpSync('/etc/resolv.conf', join(ROOT, 'etc/resolv.conf'));
    timed('apt-get install systemd nodejs (Debian 12: node 18)', () =>
      must(
        inRoot('apt-get update -qq && apt-get install -y -qq --no-install-recommends systemd nodejs'),
        'apt-get in the chroot',
      ),
    );

    // A prepared bundle: this checkout's build with production modules only (as a build machine makes it).
    const bundle = join(ROOT, 'root/bundle');
    timed('bundle: copy the build, npm prune --omit=dev', () => {
      for (const item of [
        'package.json',
        'package-lock.json',
        'dist',
        'node_modules',
        'config',
        'flows',
        'deploy',
        'scripts',
      ])
        cpSync(join(CHECKOUT, item), join(bundle, item), { recursive: true, verbatimSymlinks: true });
      must(run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], bundle), 'npm prune');
    });

    const old = inRoot('bash /root/bundle/scripts/install.sh', '/usr/sbin:/usr/bin:/sbin:/bin');
    expect(old.code).toBe(1);
    expect(old.out).toMatch(/error: Node\.js 20\.19 or newer is needed; \/usr\/bin\/node is 18\.\d+\.\d+/);
    expect(existsSync(join(ROOT, 'opt/village-gateway'))).toBe(false); // refused before anything was done

    cpSync(process.execPath, join(ROOT, 'usr/local/bin/node'));
    const first = timed('install.sh (first)', () => must(inRoot('bash /root/bundle/scripts/install.sh'), 'install'));
    expect(first).toMatch(/systemd is not running here: the service starts at the next boot/);
    const tree = installedTree();
    timed('install.sh (again: nothing to do)', () =>
      must(inRoot('bash /root/bundle/scripts/install.sh'), 'install again'),
    );
    expect(installedTree()).toBe(tree);
    expect(must(inRoot('getent passwd village-gateway'), 'getent')).toMatch(/^village-gateway:x:\d+:\d+:/);

    const verify = timed('systemd-analyze verify (the chroot systemd 252)', () =>
      inRoot('systemd-analyze verify /etc/systemd/system/village-gateway.service'),
    );
    expect(verify).toEqual({ code: 0, out: '' });
    const security = inRoot('systemd-analyze security --offline=true /etc/systemd/system/village-gateway.service');
    console.log(`\n${security.out.split('\n').slice(-2).join('\n')}`);
    expect(security.out).toMatch(/Overall exposure level for village-gateway\.service: \d+\.\d+/);

    // The technician's config (no county in this test: the events stay in the outbox).
    writeFileSync(
      join(ROOT, 'etc/village-gateway/gateway.yaml'),
      stringify({
        version: 1,
        gateway: { id: 'gw-chroot' },
        dataDir: '/var/lib/village-gateway',
        log: { level: 'warn' },
        mqtt: { url: 'mqtt://127.0.0.1:1', protocolVersion: 4 },
        devices: [
          { id: 'door-1', driver: 'synthetic', rates: { doorPerSec: 20, buttonPerSec: 0, telemetryPerSec: 20 } },
        ],
      }),
    );
    // As systemd would start it: the service user, SIGTERM after a while.
    const agent = timed('the agent as village-gateway for 8 s, status while it runs', () =>
      must(
        inRoot(
          'setpriv --reuid=village-gateway --regid=village-gateway --init-groups /opt/village-gateway/current/dist/agent/cli.js run --config /etc/village-gateway/gateway.yaml & pid=$!; sleep 8; village-gateway status; echo "exit $?"; kill -TERM $pid; wait $pid; echo "agent exit $?"',
        ),
        'running the agent',
      ),
    );
    console.log(`\nvillage-gateway status, agent running:\n${agent}`);
    expect(agent).toMatch(/^agent {4}running, pid \d+$/m);
    expect(agent).toMatch(/^link {5}DOWN/m);
    expect(agent).toMatch(/^devices {2}1 of 1 online$/m);
    expect(agent).toMatch(/^exit 0$/m);
    expect(agent).toMatch(/^agent exit 0$/m);
    expect(agent).not.toContain('last good config not updated');
    // The agent kept the config that ran beside it (its fallback for a bad edit), in root's folder.
    expect(
      must(inRoot('stat -c "%U %a" /etc/village-gateway/gateway.yaml.last-good /etc/village-gateway'), 'stat'),
    ).toMatch(/^village-gateway \d+\nroot 1770\n$/);
    const stopped = must(inRoot('village-gateway status; echo "exit $?"'), 'status after the stop');
    console.log(`\nvillage-gateway status, agent stopped:\n${stopped}`);
    expect(stopped).toMatch(/^backlog {2}\d+ waiting \(outbox\)$/m);
    expect(stopped).toMatch(/^exit 3$/m);
    // Nothing in the data folder belongs to root (status ran as root, through the installed command).
    expect(must(inRoot('find /var/lib/village-gateway ! -user village-gateway'), 'owners')).toBe('');

    const data = dataFiles();
    const config = readFileSync(join(ROOT, 'etc/village-gateway/gateway.yaml'));
    const pkg = JSON.parse(readFileSync(join(bundle, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(bundle, 'package.json'), JSON.stringify({ ...pkg, version: '99.0.0' }));
    const up = timed('install.sh (upgrade to 99.0.0)', () =>
      must(inRoot('bash /root/bundle/scripts/install.sh'), 'upgrade'),
    );
    expect(up).toMatch(/current release: 99\.0\.0 \(was \d+\.\d+\.\d+\)/);
    expect(dataFiles()).toBe(data);
    expect(readFileSync(join(ROOT, 'etc/village-gateway/gateway.yaml')).equals(config)).toBe(true);
    expect(must(inRoot('village-gateway --version'), 'version').trim()).toBe('99.0.0');
    expect(readdirSync(join(ROOT, 'opt/village-gateway/releases')).sort()).toEqual([pkg.version, '99.0.0'].sort());
    must(run('umount', [join(ROOT, 'proc')]), 'unmounting /proc');
    procMounted = false;
    timed('systemd as PID 1: start, watchdog kill and restart, stop', () => bootAndWatch());
  });
});

/** The unit under the root's own systemd: ready, kept alive by pings, killed by the watchdog when frozen, stopped. */
function bootAndWatch(): void {
  booted.boot();
  const started = booted.waitFor('the unit active (READY=1)', 90_000, (p) => p.ActiveState === 'active');
  expect(started).toMatchObject({ SubState: 'running', NRestarts: '0' });
  expect(started.StatusText).toMatch(/^running, backlog \d+$/); // our STATUS= reached the manager
  const pinged = booted.waitFor('a watchdog ping', 30_000, (p) => Number(p.WatchdogTimestampMonotonic) > 0);
  sleepSync(35_000); // past WatchdogSec=30: only the agent's pings keep it running
  const later = booted.props();
  expect(later).toMatchObject({ ActiveState: 'active', NRestarts: '0', MainPID: started.MainPID });
  expect(Number(later.WatchdogTimestampMonotonic)).toBeGreaterThan(Number(pinged.WatchdogTimestampMonotonic));

  must(booted.run('systemctl', 'kill', '--signal=SIGSTOP', 'village-gateway'), 'freezing the agent');
  const restarted = booted.waitFor(
    'a watchdog restart',
    120_000,
    (p) => p.NRestarts === '1' && p.ActiveState === 'active',
  );
  expect(restarted.MainPID).not.toBe(started.MainPID);
  const journal = must(booted.run('journalctl', '-u', 'village-gateway', '--no-pager'), 'journalctl');
  expect(journal).toMatch(/Watchdog timeout \(limit 30s\)!/);
  console.log(
    `\n${journal
      .split('\n')
      .filter((l) => !l.includes('"level"'))
      .slice(-10)
      .join('\n')}`,
  );

  must(booted.run('systemctl', 'stop', 'village-gateway'), 'systemctl stop');
  expect(booted.props()).toMatchObject({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
}
