/**
 * A flow cannot stall an alarm: with a deployed function node that spins forever after an
 * `await` (the Node-RED child's event loop stuck, where the function node's timeout cannot
 * cut it), a Modbus press still sounds the siren and its alert reaches the county through the
 * outbox and a real broker; the supervisor notices the missed heartbeats, kills and restarts
 * the child; the event queue toward it stays bounded, the rest dropped and counted. Not timed:
 * every wait is generous and only fails when a step never happens.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { BUSY_FUNC, flowInto, nodeRedAdmin } from '../../scripts/bench/nodered-admin.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { testConfig } from '../helpers/agent-config.js';
import { startBroker } from '../helpers/broker.js';
import { DeliveryCheck } from '../helpers/delivery.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const QUEUE = 50;

describe('a busy-looping flow and the alarm path', () => {
  it('a press sounds the siren and reaches the county while the child is stuck; the child is restarted; the queue stays bounded', async () => {
    const broker = await startBroker();
    cleanup(() => broker.dispose());
    const county = await new CountySubscriber({ url: broker.url, clientId: 'county-nr-isolation' }).start();
    cleanup(() => county.stop());
    const check = new DeliveryCheck(county);

    const panel = await new PanicPanel().start();
    cleanup(() => panel.sim.close());
    const dir = tempDir();
    const config = testConfig(broker.url, dir, {
      gateway: { id: 'gw-nr-iso' },
      ...panel.config(),
      nodeRed: {
        port: 0,
        users: [{ username: 'tech', password: 'village-pass' }],
        credentialSecret: 'secret-for-tests',
      },
    });
    const agent = new Agent({
      config,
      configHash: 'test',
      baseDir: dir,
      logger: quietLogger(),
      // The shipped heartbeat is a ping every 5 s, killed after 15 s silent: shortened here.
      nodeRed: { pingMs: 200, pongTimeoutMs: 1500, restart: { minMs: 200, maxMs: 500 }, queueSize: QUEUE },
    });
    const events: GatewayEvent[] = [];
    agent.observe.onEvent((e) => events.push(e));
    const count = (type: string) => events.filter((e) => e.type === type).length;
    check.watch(agent);
    await agent.start();
    cleanup(() => agent.stop());
    const nr = () => agent.observe.nodeRed()!;
    await waitUntil(() => nr().state === 'running', 20_000, 'Node-RED ready');
    const firstPid = nr().pid;

    const admin = await nodeRedAdmin(nr().url!, 'tech', 'village-pass');
    await admin.deploy(flowInto(BUSY_FUNC));
    await new Promise((r) => setTimeout(r, 500)); // the deployed flow running

    const press = async (n: number) => {
      panel.board.set('di1', true);
      await waitUntil(() => panel.sirens >= n, 5000, `the siren for press ${n}`);
      await waitUntil(() => count('alert.raised') >= n, 5000, `the alert for press ${n}`);
      panel.board.set('di1', false);
      await waitUntil(() => count('alarm.released') >= n, 5000, `release ${n}`);
    };
    // The press's own event sends the flow into its loop (the child gets it before the siren sounds or after: either way).
    await press(1);
    // A burst while the child is stuck: the queue toward it holds at most QUEUE, the rest is dropped and counted.
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        agent.emit({ deviceId: 'meter-1', type: 'sensor.telemetry', priority: 'low', data: { i } }),
      ),
    );
    expect(nr().queued).toBeLessThanOrEqual(QUEUE);
    expect(nr().dropped).toBeGreaterThan(0);
    await press(2); // still stuck (or being restarted): the alarm path does not care

    const stopped = (): GatewayEvent | undefined => events.find((e) => e.type === 'nodered.stopped');
    await waitUntil(() => stopped() !== undefined, 10_000, 'the missed heartbeats noticed');
    expect(stopped()!.data).toMatchObject({ reason: 'heartbeat', signal: 'SIGKILL' });
    await waitUntil(() => nr().restarts >= 1 && nr().pid !== firstPid, 10_000, 'the restart');
    await press(3);

    const verdict = await check.expectAllDelivered(20_000);
    const at = check.checker.events();
    expect(at.filter((e) => e.type === 'alarm.pressed')).toHaveLength(3);
    expect(at.filter((e) => e.type === 'alert.raised')).toHaveLength(3);
    expect(at.some((e) => e.type === 'nodered.stopped')).toBe(true);
    expect(verdict.boots).toHaveLength(1);
    expect(verdict.boots[0]).toMatchObject({ anchored: true, missing: [] });
  }, 40_000);
});
