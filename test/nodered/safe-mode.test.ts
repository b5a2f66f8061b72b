/**
 * Safe mode that comes when needed and goes when fixed, with a real Node-RED child and the
 * shipped heartbeat (a ping every 5 s, killed after 15 s of silence): a flow that spins in a
 * timer callback (what a flow that spins after an `await` does: the function node's timeout
 * cannot cut it) is killed by the heartbeat every 20-30 s; the third kill puts the child in
 * safe mode, where the editor answers; safe mode outlives an agent restart; the technician
 * deploys a fixed flow and leaves safe mode from the command line, or the county does with
 * `leave-safe-mode`, and the flows run again.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leaveSafeModeCommand } from '../../agent/commands/leave-safe-mode.js';
import type { EventInput } from '../../core/contracts/event.js';
import { CommandRouter } from '../../agent/uplink/commands.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { adminToken, editorConfigFile, editorSupervisor, runCli } from '../helpers/node-red.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

function rig(dataDir: string, emitted: EventInput[] = []) {
  const sup = editorSupervisor(dataDir, { emitted });
  cleanup(() => sup.stop());
  return { sup, emitted };
}

const spinning = [
  { id: 'tab1', type: 'tab', label: 'spins' },
  {
    id: 'spin',
    z: 'tab1',
    type: 'function',
    func: 'return msg;',
    initialize: 'setTimeout(() => { while (true) {} }, 200);',
    outputs: 1,
    wires: [[]],
  },
];
const fixed = [
  { id: 'tab1', type: 'tab', label: 'fixed' },
  { id: 'calm', z: 'tab1', type: 'function', func: 'return msg;', outputs: 1, wires: [[]] },
];

const record = (dataDir: string) =>
  JSON.parse(readFileSync(join(dataDir, 'node-red-crash-loop.json'), 'utf8')) as {
    safeMode: unknown;
    heartbeatKills: number[];
  };

describe('safe mode', () => {
  it('comes after the third heartbeat kill, keeps the editor up, outlives an agent restart, and goes from the CLI once fixed', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'node-red'), { recursive: true });
    writeFileSync(join(dataDir, 'node-red', 'flows.json'), JSON.stringify(spinning));
    const first = rig(dataDir);
    const t0 = Date.now();
    first.sup.start();
    // Stated window: 3 heartbeat kills within 10 minutes; each takes 20-30 s here.
    await waitUntil(() => first.sup.describe().crashLoop, 180_000, 'the crash loop');
    const tookSec = (Date.now() - t0) / 1000;
    const kinds = first.emitted.map((e) => e.type);
    expect(first.emitted.filter((e) => e.type === 'nodered.stopped').map((e) => e.data)).toMatchObject([
      { reason: 'heartbeat' },
      { reason: 'heartbeat' },
      { reason: 'heartbeat' },
    ]);
    // Raised with the third kill, before its nodered.stopped: the next start is in safe mode.
    expect(kinds.slice(-2)).toEqual(['nodered.crash_loop', 'nodered.stopped']);
    expect(first.emitted.at(-2)).toMatchObject({
      priority: 'high',
      data: { reason: 'heartbeat-kills', count: 3, windowSec: 600 },
    });
    console.log(`a spinning flow: safe mode after ${Math.round(tookSec)} s (3 heartbeat kills)`);
    await waitUntil(() => first.sup.describe().state === 'running', 30_000, 'started in safe mode');
    expect(first.sup.describe().safeMode).toBe(true);

    // The editor answers: its login page's API, a login, and the flows to fix.
    const url = first.sup.describe().url!;
    const loginPage = await fetch(`${url}auth/login`);
    expect(loginPage.status).toBe(200);
    expect(await loginPage.json()).toMatchObject({ type: 'credentials' });
    const token = await adminToken(url);
    expect(typeof token).toBe('string');
    const flows = await fetch(`${url}flows`, { headers: { authorization: `Bearer ${token}` } });
    expect(flows.status).toBe(200);
    expect(JSON.stringify(await flows.json())).toContain('while (true)');
    // The flows are stopped, so the heartbeat is answered: not killed again.
    const pid = first.sup.pid;
    await new Promise((r) => setTimeout(r, 20_000));
    expect(first.sup.pid).toBe(pid);
    expect(first.emitted.filter((e) => e.type === 'nodered.stopped')).toHaveLength(3);

    // The agent restarts: still in safe mode, without a new crash loop being counted.
    await first.sup.stop();
    expect(record(dataDir).safeMode).not.toBeNull();
    const second = rig(dataDir);
    second.sup.start();
    await waitUntil(() => second.sup.describe().state === 'running', 30_000, 'the restarted agent');
    expect(second.sup.describe()).toMatchObject({ safeMode: true, crashLoop: true });
    expect(second.emitted.map((e) => e.type)).toEqual(['nodered.started']);
    expect(second.emitted[0]!.data).toMatchObject({ safeMode: true });

    // The technician deploys the fixed flow, then leaves safe mode on site.
    const url2 = second.sup.describe().url!;
    const token2 = (await adminToken(url2)) as string;
    const deployed = await fetch(`${url2}flows`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token2}`,
        'content-type': 'application/json',
        'Node-RED-Deployment-Type': 'full',
      },
      body: JSON.stringify(fixed),
    });
    expect(deployed.status).toBe(204);
    const off = await runCli(['editor', 'safe-mode', 'off', '--config', editorConfigFile(tempDir(), dataDir)]);
    expect(off.stderr).toBe('');
    expect(off.stdout).toContain('safe-mode-off: done by the running agent');
    await waitUntil(
      () =>
        second.emitted.some(
          (e) => e.type === 'nodered.started' && (e.data as { safeMode?: boolean }).safeMode === false,
        ),
      30_000,
      'started with its flows',
    );
    expect(second.emitted.map((e) => e.type)).toEqual(['nodered.started', 'nodered.safe_mode_left', 'nodered.started']);
    expect(second.emitted[1]).toMatchObject({ data: { by: 'cli' } });
    expect(second.sup.describe()).toMatchObject({ safeMode: false, crashLoop: false, state: 'running' });
    expect(record(dataDir)).toMatchObject({ safeMode: null, heartbeatKills: [] });
    // Really left: it runs the fixed flow past a heartbeat timeout, and a later agent starts it with its flows too.
    const pid2 = second.sup.pid;
    await new Promise((r) => setTimeout(r, 20_000));
    expect(second.sup.pid).toBe(pid2);
    await second.sup.stop();
    const third = rig(dataDir);
    third.sup.start();
    await waitUntil(() => third.sup.describe().state === 'running', 30_000, 'the third agent');
    expect(third.sup.describe().safeMode).toBe(false);
  }, 400_000);

  it("the county's leave-safe-mode command leaves it; asked again, it says there is nothing to leave", async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'node-red'), { recursive: true });
    const since = Date.now() - 60_000;
    writeFileSync(
      join(dataDir, 'node-red-crash-loop.json'),
      JSON.stringify({ safeMode: { since, reason: 'exits', count: 5 } }),
    );
    const { sup, emitted } = rig(dataDir);
    const router = new CommandRouter(topicsFor('village/gw-safe'), quietLogger());
    // The command as the agent registers it (agent/commands/register.ts), with the supervisor as its control.
    router.register('leave-safe-mode', leaveSafeModeCommand(sup));
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 30_000, 'started');
    expect(sup.describe()).toMatchObject({ safeMode: true, crashLoop: true });
    const reply = await router.execute('leave-safe-mode', Buffer.from('{"id":"c1"}'), false);
    expect(reply).toMatchObject({ ok: true, id: 'c1', result: { left: true } });
    await waitUntil(
      () => emitted.some((e) => e.type === 'nodered.started' && (e.data as { safeMode?: boolean }).safeMode === false),
      30_000,
      'started with its flows',
    );
    expect(emitted.find((e) => e.type === 'nodered.safe_mode_left')).toMatchObject({ data: { by: 'command' } });
    expect(emitted.filter((e) => e.type === 'nodered.stopped')).toEqual([]); // a restart asked for is no crash
    const again = await router.execute('leave-safe-mode', Buffer.from('{}'), false);
    expect(again).toMatchObject({ ok: true, result: { left: false, note: 'Node-RED is not in safe mode' } });
  }, 60_000);
});
