/**
 * A Debian root booted under its own systemd, for `npm run test:install`: systemd runs as PID 1
 * of a new pid and mount namespace (unshare), with the root bind-mounted on itself (a unit's
 * sandboxing needs its root to be a mount point) and /proc, /sys, /run and a named systemd
 * cgroup hierarchy mounted. Commands reach it through nsenter. Killing its PID 1 ends the
 * namespace and every mount made in it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A blocking wait (the chroot test is one synchronous sequence of commands). */
export const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const BOOT = [
  '#!/bin/sh',
  'mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t tmpfs tmpfs /run',
  'mount -t tmpfs tmpfs /sys/fs/cgroup && mkdir -p /sys/fs/cgroup/systemd',
  'mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd',
  'exec env container=other /lib/systemd/systemd --system --unit=multi-user.target',
  '',
].join('\n');

const PROPS = 'ActiveState,SubState,MainPID,NRestarts,Result,StatusText,WatchdogTimestampMonotonic,ExecMainStatus';

export class BootedRoot {
  private unshare: ChildProcess | null = null;
  private pid1: number | null = null;

  constructor(private readonly root: string) {}

  boot(): void {
    writeFileSync(join(this.root, 'vg-boot.sh'), BOOT, { mode: 0o755 });
    const line = `mount --bind ${this.root} ${this.root} && exec chroot ${this.root} /vg-boot.sh`;
    const unshare = spawn(
      'unshare',
      ['--pid', '--fork', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', line],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    this.unshare = unshare;
    unshare.on('error', (err) => console.log(`unshare: ${err.message}`));
    for (let i = 0; i < 100 && !this.pid1; i++) {
      sleepSync(100);
      const child = spawnSync('pgrep', ['-P', String(unshare.pid)], { encoding: 'utf8' }).stdout.trim();
      const comm = child ? spawnSync('cat', [`/proc/${child}/comm`], { encoding: 'utf8' }).stdout.trim() : '';
      if (comm === 'systemd') this.pid1 = Number(child);
    }
    if (!this.pid1) throw new Error('systemd did not start as PID 1 of the namespace');
  }

  /** A command inside the booted root, through its namespaces. */
  run(...args: string[]): { code: number | null; out: string } {
    const r = spawnSync(
      'nsenter',
      [
        '-t',
        String(this.pid1),
        '-m',
        '-p',
        '-r',
        '-w',
        '/usr/bin/env',
        '-i',
        'PATH=/usr/local/bin:/usr/bin:/bin',
        ...args,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
  }

  /** The village-gateway unit's properties, as systemctl show gives them. */
  props(): Record<string, string> {
    const r = this.run('systemctl', 'show', 'village-gateway', '-p', PROPS);
    if (r.code !== 0) throw new Error(`systemctl show failed (exit ${r.code}): ${r.out}`);
    return Object.fromEntries(
      r.out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  /** Polls the unit's properties until `ok` holds; a manager still coming up (no bus yet) is waited for too. */
  waitFor(what: string, ms: number, ok: (p: Record<string, string>) => boolean): Record<string, string> {
    const end = Date.now() + ms;
    let last: unknown = null;
    for (;;) {
      try {
        const p = this.props();
        if (ok(p)) return p;
        last = p;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms; last ${JSON.stringify(last)}`);
      sleepSync(1000);
    }
  }

  kill(): void {
    if (this.pid1) spawnSync('kill', ['-KILL', String(this.pid1)]);
    this.unshare?.kill('SIGKILL');
    this.pid1 = null;
  }
}
