/**
 * Starting a child (ChildSpawner) with a real process, the stand-in fixtures/echo-child.mjs: its
 * options arrive as the channel's first frame (the secrets never in its environment), what it
 * sends reaches the handlers checked, and a frame over the limit breaks the channel, is counted,
 * and the child, cut off, exits.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import type { FromChild } from '../../core/contracts/nodered-ipc.js';
import { ChildSpawner } from '../../agent/nodered/child-spawn.js';
import { LogBudget } from '../../agent/nodered/log-budget.js';
import type { SupervisorOptions } from '../../agent/nodered/supervisor-options.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { EDITOR_USER, testNodeRedConfig } from '../helpers/node-red.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const echoChild = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'echo-child.mjs');

describe('ChildSpawner', () => {
  it('sends the options first, hands on checked messages, and counts a broken channel; the child then exits', async () => {
    const logger = quietLogger();
    const opts: SupervisorOptions = {
      config: testNodeRedConfig(),
      dataDir: tempDir(),
      gatewayId: 'gw-spawn',
      logger,
      flowWritable: new Set(),
      tagsOf: () => [],
      childPath: echoChild,
      ports: {
        onEvent: () => () => {},
        emit: () => {},
        write: async () => {},
        raiseAlert: async () => 'alert-1',
        status: () => ({}),
      },
    };
    const monoMs = () => performance.now();
    const spawner = new ChildSpawner({ opts, logBudget: new LogBudget(logger, monoMs), monoMs });
    cleanup(() => spawner.close());
    const got: FromChild[] = [];
    const seen: { violations: number; closed: number; exit?: number | null } = { violations: 0, closed: 0 };
    const child = spawner.spawn(true, {
      onMessage: (m: FromChild, _log: Logger) => void got.push(m),
      onViolation: () => void (seen.violations += 1),
      onClose: () => void (seen.closed += 1),
      onDrain: () => {},
      onExit: (code) => void (seen.exit = code),
    });
    cleanup(() => child.kill());
    expect(child.pid).toBeGreaterThan(0);
    await waitUntil(() => got.some((m) => m.t === 'ready'), 10_000, 'ready');
    expect(got).toEqual([
      { t: 'log', level: 'info', msg: 'password in env: false' },
      { t: 'ready', url: 'http://127.0.0.1:1/', safeMode: true },
    ]);
    expect(EDITOR_USER.password).not.toBe(''); // the check above had something to look for

    expect(child.send({ t: 'ping', n: 1 })).toBe(true);
    await waitUntil(() => got.length === 3, 5000, 'the pong');
    expect(got[2]).toEqual({ t: 'pong', n: 1, stats: { events: 0, rssBytes: 1 } });

    child.send({ t: 'ping', n: 2 }); // answered with a frame header over the limit
    await waitUntil(() => seen.exit !== undefined, 5000, 'the exit of the cut-off child');
    expect(seen).toEqual({ violations: 1, closed: 1, exit: 0 });
    expect(spawner.violations).toBe(1);
    expect(child.channel?.connected).toBe(false);
    expect(child.send({ t: 'ping', n: 3 })).toBe(false);
  });
});
