/**
 * `nodeRed.launch: systemd`, the production boundary: the agent does not start the child, it
 * listens on runtimeDir/flows.sock (0750 folder, 0660 socket, group of the flows' user) and the
 * child is started as deploy/village-gateway-flows.service starts it (here by the test, as
 * nobody, with the unit's command line). It connects (retrying until the agent listens), runs,
 * and exits by itself when the agent drops it; a child killed from outside (the unit's watchdog)
 * is noticed as nodered.stopped and the next one the unit starts is taken. A second process of
 * the flows' user cannot connect beside the running child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultChildPath } from '../../agent/nodered/child-files.js';
import { socketPathIn } from '../../agent/nodered/child-launcher.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { eventsOnlySupervisor } from '../helpers/node-red.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const NOBODY = 65534;

describe.runIf(process.getuid?.() === 0)('the flows started by their own unit (launch: systemd)', () => {
  it('connects to the agent as another user, exits when dropped, and a restarted one is taken again', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755); // as / and /run are
    const runtimeDir = join(dir, 'run', 'flows');
    mkdirSync(join(dir, 'run'), { mode: 0o755 });
    const userDir = join(dir, 'flows-state');
    mkdirSync(userDir, { mode: 0o700 });
    chownSync(userDir, NOBODY, NOBODY);
    const unitChild = (): ChildProcess & { ended: Promise<number | null> } => {
      const p = spawn(
        process.execPath,
        ['--max-old-space-size=128', defaultChildPath(), '--socket', socketPathIn(runtimeDir), '--user-dir', userDir],
        { uid: NOBODY, gid: NOBODY, cwd: '/', env: { PATH: process.env.PATH, HOME: userDir }, stdio: 'ignore' },
      ) as ChildProcess & { ended: Promise<number | null> };
      p.ended = new Promise((r) => p.once('exit', (code) => r(code)));
      cleanup(() => p.kill('SIGKILL'));
      return p;
    };
    // Started before the agent listens, as at boot: it keeps trying.
    const first = unitChild();
    await new Promise((r) => setTimeout(r, 1500)); // the child retrying while no socket exists
    const { sup, emitted } = eventsOnlySupervisor(join(dir, 'data'), { launch: 'systemd', runtimeDir, user: 'nobody' });
    cleanup(() => sup.stop());
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 30_000, 'the unit-started child ready');
    const dirStat = statSync(runtimeDir);
    expect([dirStat.mode & 0o777, dirStat.gid]).toEqual([0o750, NOBODY]);
    const sockStat = statSync(socketPathIn(runtimeDir));
    expect([sockStat.mode & 0o777, sockStat.gid]).toEqual([0o660, NOBODY]);

    // Another process cannot take the channel beside the running child: its connection is closed.
    const intruder = connect(socketPathIn(runtimeDir));
    intruder.on('error', () => {});
    await new Promise<void>((r) => intruder.once('close', () => r()));
    expect(sup.describe().state).toBe('running');

    // The unit's watchdog kills the child: the agent notices (the connection ends) and waits for the next.
    first.kill('SIGKILL');
    await waitUntil(() => emitted.some((e) => e.type === 'nodered.stopped'), 10_000, 'the death noticed');
    const second = unitChild();
    await waitUntil(
      () => sup.describe().state === 'running' && emitted.filter((e) => e.type === 'nodered.started').length === 2,
      30_000,
      'the restarted child taken',
    );
    // The agent stops: it drops the connection and the child exits by itself, cleanly.
    await sup.stop();
    expect(await second.ended).toBe(0);
  }, 120_000);
});
