#!/usr/bin/env node
/**
 * The test suite's preflight (`npm test`, `npm run test:faults` and `.ci/run` run it first):
 * the tests start real peers, so the programs they spawn must be installed.
 *
 *   socat      serial tests: pty pairs (scripts/simulators/pty-pair.ts)
 *   mosquitto  the broker for MQTT 5, TLS, persistence and broker-kill tests (Debian puts it
 *              in /usr/sbin, often not on a user's PATH); mosquitto_passwd comes with it
 *   openssl    the TLS tests make their certificates (test/helpers/certs.ts)
 *   chromium   the Node-RED editor test drives Debian's Chromium with playwright-core (never a
 *              downloaded browser); playwright-core 1.64 is the release built for Chromium 156
 *   systemd-notify, systemd-analyze (Debian's systemd package; systemd need not run as PID 1)
 *              the watchdog notifier sends through the real systemd-notify; the unit file is
 *              checked with systemd-analyze verify
 *   python3    plays systemd's end of NOTIFY_SOCKET in the notifier tests (Node has no unix
 *              datagram sockets)
 *   debootstrap  only with --debian-root (`npm run test:install`): a fresh Debian root to install into
 *
 * All present: exit 0, silently. Something missing, as root with apt-get: installs the Debian
 * packages (one line says so). Otherwise: exit 1 within a moment, naming what is missing and
 * the one command to run, rather than a wall of failing tests.
 *
 * As root, the Node-RED tests start the flows' child as another user (nobody when
 * village-gateway-flows does not exist): it must be able to enter the checkout to load its
 * code. A checkout in a private folder (mktemp -d is 0700, /root is 0700) gets o+x on that
 * folder and each folder above it that lacks it (one line says which); nothing else changes.
 *
 * VG_PREFLIGHT_INSTALL=never forbids installing (then a missing program is always exit 1).
 * Plain Node, no dependencies: it runs before `npm ci` and before the build.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** program -> Debian package, and the places outside PATH where Debian installs it. */
const NEEDED = [
  { program: 'socat', pkg: 'socat', also: [] },
  // The same places scripts/brokers/mosquitto.ts looks.
  {
    program: 'mosquitto',
    pkg: 'mosquitto',
    also: ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'],
  },
  { program: 'openssl', pkg: 'openssl', also: [] },
  { program: 'chromium', pkg: 'chromium', also: ['/usr/bin/chromium'] },
  { program: 'systemd-notify', pkg: 'systemd', also: ['/usr/bin/systemd-notify', '/bin/systemd-notify'] },
  { program: 'systemd-analyze', pkg: 'systemd', also: ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'] },
  { program: 'python3', pkg: 'python3', also: ['/usr/bin/python3'] },
  ...(process.argv.includes('--debian-root')
    ? [{ program: 'debootstrap', pkg: 'debootstrap', also: ['/usr/sbin/debootstrap'] }]
    : []),
];

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const onPath = (program) =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => executable(join(dir, program)));
const found = (n) => onPath(n.program) || n.also.some(executable);
const missingNow = () => NEEDED.filter((n) => !found(n));

const say = (line) => process.stderr.write(`test preflight: ${line}\n`);

/** As root: let other users enter the folders down to the checkout (see above). */
function checkoutReachable() {
  if (process.getuid?.() !== 0) return;
  const opened = [];
  for (let dir = resolve(dirname(fileURLToPath(import.meta.url)), '..'); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, (mode & 0o7777) | 0o001);
      opened.push(dir);
    }
    if (dirname(dir) === dir) break;
  }
  if (opened.length > 0) say(`other users may now enter ${opened.join(', ')} (the flows' child runs as another user)`);
}
checkoutReachable();

let missing = missingNow();
if (missing.length === 0) process.exit(0);

const root = process.getuid?.() === 0;
const apt = onPath('apt-get');
const mayInstall = process.env.VG_PREFLIGHT_INSTALL !== 'never';
const pkgs = [...new Set(missing.map((n) => n.pkg))];

if (root && apt && mayInstall) {
  say(`${missing.map((n) => n.program).join(', ')} missing: installing ${pkgs.join(' ')} with apt-get (root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...pkgs],
  ]) {
    const r = run(args);
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`);
      say(`apt-get ${args[0]} failed (exit ${r.status})`);
      process.exit(1);
    }
  }
  missing = missingNow();
  if (missing.length === 0) process.exit(0);
  say(`still missing after the install: ${missing.map((n) => n.program).join(', ')}`);
  process.exit(1);
}

const names = missing.map((n) => n.program).join(', ');
const where = missing.some((n) => n.also.length > 0) ? 'on PATH or in /usr/sbin' : 'on PATH';
const why = !mayInstall
  ? '; not installing: VG_PREFLIGHT_INSTALL=never'
  : !apt
    ? '; no apt-get here'
    : !root
      ? '; not root'
      : '';
say(
  `the tests need ${names} (not found ${where}${why}). Install ${missing.length > 1 ? 'them' : 'it'} with${apt ? '' : ' (Debian/Ubuntu)'}:`,
);
process.stderr.write(`  ${root ? '' : 'sudo '}apt-get install -y ${pkgs.join(' ')}\n`);
process.exit(1);
