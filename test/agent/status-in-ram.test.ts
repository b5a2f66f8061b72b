/**
 * The views rewritten every 5 s (status.json, devices.json) live in RAM when the config names a
 * runtimeDir (/run/village-gateway as installed): the SD card gets a copy at start, every 10
 * minutes and at stop, which is what `status` reads after a reboot has emptied /run. A real CLI
 * agent; a plain folder stands in for the tmpfs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentChild, CLI } from '../helpers/agent-child.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

function cli(file: string, command: string) {
  const r = spawnSync(process.execPath, [CLI, command, '--config', file, '--json'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const view = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { writtenAt: string; stopping: boolean };

describe('views in RAM', () => {
  it('rewrites status and devices in runtimeDir; the data folder gets them at start and stop; status reads either', async () => {
    const dir = tempDir();
    const [dataDir, runtimeDir] = [join(dir, 'data'), join(dir, 'run')];
    const file = AgentChild.writeConfig(dir, {
      version: 1,
      gateway: { id: 'gw-ram' },
      dataDir,
      runtimeDir,
      log: { level: 'error' },
      clock: { synced: 'always' },
      health: { intervalSec: 3600 },
      mqtt: { url: brokerRef.current.url, willDelaySec: 0 },
      devices: [{ id: 'meter', driver: 'synthetic', rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: 1 } }],
    });
    const agent = new AgentChild(file).start();
    cleanup(() => agent.kill());
    await agent.waitForStored(1);
    const [ramStatus, diskStatus] = [join(runtimeDir, 'status.json'), join(dataDir, 'status.json')];
    await waitUntil(
      () => existsSync(ramStatus) && existsSync(join(runtimeDir, 'devices.json')),
      10_000,
      'views in RAM',
    );
    expect(existsSync(diskStatus)).toBe(true); // the copy written at start
    const diskAtStart = statSync(diskStatus).mtimeMs;
    const first = view(ramStatus).writtenAt;
    await waitUntil(() => view(ramStatus).writtenAt !== first, 12_000, 'the next write in RAM');
    expect(statSync(diskStatus).mtimeMs).toBe(diskAtStart); // the card was left alone meanwhile
    expect(cli(file, 'status').agent).toMatchObject({ state: 'running', pid: agent.pid });
    expect(cli(file, 'devices').devices[0]).toMatchObject({ id: 'meter' });

    await agent.kill('SIGTERM');
    expect(view(diskStatus).stopping).toBe(true); // the last view reached the card
    rmSync(runtimeDir, { recursive: true }); // a reboot empties /run
    const after = cli(file, 'status');
    expect(after.agent).toMatchObject({ state: 'not running', pid: agent.pid });
    expect(after.view.writtenAt).toBe(view(diskStatus).writtenAt);
  });
});
