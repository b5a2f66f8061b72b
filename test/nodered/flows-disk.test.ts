/**
 * The card's last bytes are the alarms', against a flow too (found by the hostile probe): the data
 * folder on a small tmpfs (as root), the flows' folder on the same card (as on a Pi), and a flow
 * that writes a file until the card refuses a byte more, every half second. The first press
 * after the card filled lets the disk reserve go to the alarms: the flows must stop at that
 * moment (the editor stays), or the flow takes the freed room within a tenth of a second and
 * the next presses are lost. The same after a restart on the full card; when the card has room
 * again and the reserve is written, the flows start again.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeRedAdmin } from '../../scripts/bench/nodered-admin.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { AgentChild } from '../helpers/agent-child.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { editorEnv, injectedFunction } from '../helpers/node-red.js';
import { editorVillage } from '../helpers/editor-village.js';
import { mountSmallCard } from '../helpers/small-card.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

/** Free bytes on the card, as df says (what a flow or SQLite can still take). */
const freeBytes = (dir: string) => Number(execFileSync('df', ['-B1', '--output=avail', dir]).toString().split('\n')[1]);

/** A function node that escapes its sandbox and appends to a file in its own folder until the card is full. */
const filler = (file: string) => `const p = Buffer.constructor('return process')();
  const fs = p.getBuiltinModule('fs');
  const file = ${JSON.stringify(file)};
  const fd = fs.openSync(file, 'a');
  const b = Buffer.alloc(4096, 1);
  try { for (;;) fs.writeSync(fd, b); } catch (e) { node.status({ text: e.code }); } finally { fs.closeSync(fd); }`;

/** The editor answers (safe mode keeps it up so a technician can fix the flow). */
async function editorUp(port: number): Promise<void> {
  const end = Date.now() + 30_000;
  while ((await fetch(`http://127.0.0.1:${port}/`).catch(() => null))?.ok !== true) {
    if (Date.now() > end) throw new Error('the editor did not answer within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a flow filling the card', () => {
  it('stops at the press that lets the reserve go; presses keep reaching siren and county, after a restart too; the flows come back with the room', async () => {
    expect(process.getuid?.(), 'this test mounts a tmpfs: run it as root (CI does)').toBe(0);
    const id = 'gw-flows-disk';
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const card = mountSmallCard(dir, '16m', cleanup);
    chmodSync(card, 0o755);
    const { panel, port, file } = await editorVillage(
      dir,
      {
        id,
        brokerUrl: brokerRef.current.url,
        dataDir: join(card, 'data'),
        extra: { outbox: { diskReserveBytes: '1MiB' } },
      },
      cleanup,
    );
    const env = editorEnv();
    const county = await new CountySubscriber({ url: brokerRef.current.url, clientId: `county-${id}` }).start();
    cleanup(() => county.stop());
    const byType = (type: string) => [...county.events.values()].filter((e) => e.type === type && e.gatewayId === id);
    const started = () => byType('nodered.started').map((e) => e.data['safeMode']);
    let agent = new AgentChild(file, env).start();
    cleanup(() => agent.kill('SIGTERM'));
    await county.waitFor(() => started().length >= 1, 60_000);
    expect(started()).toEqual([false]);
    let presses = 0;
    const press = async () => {
      presses += 1;
      expect(await panel.press('di1', 10_000, () => agent.running), `the siren for press ${presses}`).toBe(true);
      await county.waitFor(() => byType('alarm.pressed').length >= presses, 20_000);
    };
    await press();

    // Relative: the child's cwd is its own folder (it cannot traverse the 0750 data folder by path).
    const fillerFile = join(card, 'data', 'node-red', 'filler.bin');
    const admin = await nodeRedAdmin(`http://127.0.0.1:${port}/`, 'tech', 'village-pass');
    await admin.deploy(injectedFunction(filler('filler.bin'), 0.5, 'fill'));
    await waitUntil(() => freeBytes(card) < 64 * 1024, 20_000, 'the flow filled the card');

    // The press that finds the card full: the reserve (1 MiB) goes to the alarms and the flows stop.
    // (The county hears of it later: on a card full past the reserve, telemetry is not stored.)
    await press();
    await waitUntil(() => agent.output.includes('flows stopped'), 10_000, 'the flows stopped');
    await new Promise((r) => setTimeout(r, 3000)); // six of the flow's turns, had it kept running
    expect(freeBytes(card), 'the freed reserve is still free').toBeGreaterThan(512 * 1024);
    await editorUp(port);
    for (let i = 0; i < 4; i++) await press();

    // A restart on the full card: the flows do not run (they would refill it), the alarms still go.
    await agent.kill('SIGTERM');
    agent = new AgentChild(file, env).start();
    await waitUntil(() => agent.output.includes('flows stopped'), 30_000, 'started on a full card: flows stopped');
    await editorUp(port);
    for (let i = 0; i < 3; i++) await press();
    expect(freeBytes(card)).toBeGreaterThan(512 * 1024);
    expect(byType('gateway.events_lost'), 'no alarm lost').toEqual([]);
    expect(started(), 'no flows started while the card was full').toEqual([false]);

    // Room again (the technician removes the file): the reserve is written and the flows start.
    rmSync(fillerFile);
    await press(); // a commit: the outbox writes the reserve back when the card has room for it
    // (A child still starting in safe mode when the room came back may report that start first.)
    await county.waitFor(() => started().filter((safe) => !safe).length >= 2, 60_000);
    expect(started().at(-1), 'the reserve is back: the flows run again').toBe(false);
    expect(agent.running, agent.output).toBe(true);
  }, 240_000);
});
