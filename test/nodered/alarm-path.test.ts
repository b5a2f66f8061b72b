/**
 * The alarm path does not depend on Node-RED: with the child killed (and while it restarts),
 * a press still raises its rule's alert at once; the agent reports the child in status.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { devicesData, formatDevicesWide } from '../../agent/devices-report.js';
import { testConfig } from '../helpers/agent-config.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const stubNodes = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nodes');

describe('the agent with Node-RED', () => {
  it('a press raises its alert while the Node-RED child is dead', async () => {
    const dir = tempDir();
    const config = testConfig('mqtt://127.0.0.1:1', dir, {
      gateway: { id: 'gw-nr' },
      nodeRed: {
        port: 0,
        users: [{ username: 'tech', password: 'village-pass' }],
        credentialSecret: 'secret-for-tests',
      },
      rules: [
        { id: 'panic', when: { type: 'alarm.pressed' }, cooldownSec: 0, actions: [{ do: 'alert', message: 'help' }] },
      ],
    });
    const agent = new Agent({
      config,
      configHash: 'test',
      baseDir: dir,
      logger: quietLogger(),
      profiles: new Map(),
      nodeRed: { nodesDir: stubNodes, restart: { minMs: 3000, maxMs: 3000 } },
    });
    await agent.start();
    cleanup(() => agent.stop());
    await waitUntil(() => agent.observe.nodeRed()?.state === 'running', 20_000, 'Node-RED ready');
    const pid = agent.observe.nodeRed()!.pid!;
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => agent.observe.nodeRed()?.state === 'restarting', 5000, 'the death noticed');

    await agent.emit({
      deviceId: 'house-1-panic',
      type: 'alarm.pressed',
      priority: 'critical',
      data: { line: 'test' },
    });
    await waitUntil(() => agent.observe.alarms().alerts.length === 1, 2000, 'the alert');
    // Raised while the child was still down: the alarm path never waits for it (its latency is a benchmark row).
    expect(agent.observe.nodeRed()?.state).toBe('restarting');
    expect(agent.observe.status()).toHaveProperty('nodeRed.restarts', 1);
    await waitUntil(() => agent.observe.nodeRed()?.state === 'running', 20_000, 'the restart');
    await agent.stop(); // writes the last devices view
    expect(formatDevicesWide(devicesData(config))).toMatch(
      /^node-red: (running|stopping) at http:\/\/127\.0\.0\.1:\d+\/, 1 restarts, \d+ events dropped$/m,
    );
  }, 30_000);
});
