/**
 * One agent per data folder: a second one (started later, or at the same moment) is refused
 * with exit 2 naming the holder's pid, the first keeps delivering everything, and a kill -9
 * of the holder frees the folder for the next agent.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { testConfig } from '../helpers/agent-config.js';
import { AgentChild } from '../helpers/agent-child.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const cliConfig = (url: string, dataDir: string) => ({
  version: 1,
  gateway: { id: 'gw-lock' },
  dataDir,
  log: { level: 'warn' },
  clock: { synced: 'always' },
  mqtt: {
    url,
    protocolVersion: 4,
    reconnect: { minMs: 100, maxMs: 1000, jitter: 0.2 },
    replay: { messagesPerSec: 0, burst: 100 },
  },
  devices: [{ id: 'panic-1', driver: 'synthetic', rates: { doorPerSec: 20, buttonPerSec: 5, telemetryPerSec: 50 } }],
});

describe('one agent per dataDir', () => {
  it("refuses a second CLI agent with exit 2 naming the first one's pid; the first loses nothing", async () => {
    const dir = tempDir();
    const county = await startCounty(brokerRef.current.url, cleanup, 'county-lock');
    const check = new DeliveryCheck(county);
    const file = AgentChild.writeConfig(dir, cliConfig(brokerRef.current.url, join(dir, 'data')));
    const first = new AgentChild(file).start();
    cleanup(() => first.kill('SIGTERM'));
    check.watchProcess(first);
    await first.waitForStored(50);

    const second = new AgentChild(file).start();
    expect(await second.exit()).toEqual({ code: 2, signal: null });
    expect(second.output).toMatch(new RegExp(`in use by another agent \\(pid ${first.pid}\\)`));
    expect(second.stored.size).toBe(0);

    await first.waitForStored(first.stored.size + 50); // still producing after the refusal
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    await check.expectAllDelivered();
  });

  it('lets exactly one of two agents started together run, and the next one in after a kill -9', async () => {
    const dir = tempDir();
    const file = AgentChild.writeConfig(dir, cliConfig(brokerRef.current.url, join(dir, 'data')));
    const a = new AgentChild(file).start();
    const b = new AgentChild(file).start();
    cleanup(() => Promise.all([a.kill(), b.kill()]));
    await waitUntil(() => a.exitCode === 2 || b.exitCode === 2, 10_000, 'one agent refused');
    const [winner, loser] = a.exitCode === 2 ? [b, a] : [a, b];
    expect(loser.output).toMatch(/in use by another agent/);
    await winner.waitForStored(10);
    await winner.kill('SIGKILL');

    const next = new AgentChild(file).start();
    cleanup(() => next.kill());
    await next.waitForStored(10);
  });

  it('refuses a second in-process agent with DATA_DIR_LOCKED at start, and frees the folder at stop', async () => {
    const dir = tempDir();
    const config = testConfig(brokerRef.current.url, dir);
    const one = new Agent({ config, configHash: 't', baseDir: dir, logger: quietLogger() });
    await one.start();
    const refusal: unknown = await new Agent({ config, configHash: 't', baseDir: dir, logger: quietLogger() })
      .start()
      .catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(GatewayError);
    expect((refusal as GatewayError).code).toBe('DATA_DIR_LOCKED');
    await one.stop();
    const two = new Agent({ config, configHash: 't', baseDir: dir, logger: quietLogger() });
    await two.start();
    await two.stop();
  });
});
