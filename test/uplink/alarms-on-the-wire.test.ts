/**
 * Alarms first on the wire, through a slow link (a throttled TCP proxy) to a real broker and a
 * county subscriber: an alarm pressed while a backlog drains finds only a moment of data ahead
 * of it, a link that is down is retried within seconds once an alarm waits (not after the
 * grown backoff), and an alarm whose PUBACK never comes (a cell gone without a FIN) drops the
 * connection long before the keepalive would.
 *
 * What is judged is how much telemetry reached the county between the alarm being stored and
 * the alarm arriving, not a time: on a loaded machine the times stretch, the order does not.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import type { CountySubscriber } from '../../scripts/county-subscriber.js';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { testConfig, type TestConfigOver } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const brokerPort = () => Number(new URL(brokerRef.current.url).port);

const RATE = 8000; // bytes/s each way: 64 kbit/s, a poor EDGE cell
const DELAY_MS = 100;

async function county(name: string): Promise<CountySubscriber> {
  const sub = await startCounty(brokerRef.current.url, cleanup, `county-${name}`);
  return sub;
}

async function weakLink(): Promise<TcpProxy> {
  const link = await new TcpProxy({ targetPort: brokerPort() }).start();
  link.delayMs = DELAY_MS;
  link.rateBytesPerSec = RATE;
  cleanup(() => link.stop());
  return link;
}

function agentOn(url: string, id: string, mqtt: TestConfigOver['mqtt'] = {}): Agent {
  const dir = tempDir();
  const config = testConfig(url, dir, {
    gateway: { id },
    mqtt: { batch: { maxEvents: 100, maxBytes: 65536 }, inflightWindow: 20, ...mqtt },
  });
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  cleanup(() => agent.stop());
  return agent;
}

/** Started against a cut link: the first attempt has failed and the loop waits its (long) backoff. */
async function startedWithLinkDown(agent: Agent): Promise<void> {
  await agent.start();
  const waiting = () => agent.observe.link().attempts >= 1 && agent.observe.link().state === 'down';
  await waitUntil(waiting, 10_000, 'the first attempt to fail');
}

const press = (agent: Agent) =>
  agent.emit({ deviceId: 'btn', type: 'alarm.pressed', priority: 'critical', data: { input: 'in1', active: true } });

describe('alarms first on the wire', () => {
  it(
    'an alarm pressed while a backlog drains over a slow link finds only a moment of data ahead of it',
    { timeout: 240_000 },
    async () => {
      const sub = await county('wire');
      const link = await weakLink();
      const agent = agentOn(link.url, 'gw-wire');
      const check = new DeliveryCheck(sub).watch(agent);
      await agent.open(); // the outbox, for the backlog queued before the link starts
      // ~1,500 telemetry events, ~0.5 MB: a minute of this link. In 20 x 100-event batches the old
      // count-only window put ~600 KB on the wire at once, and an alarm behind it waited over a minute.
      await Promise.all(
        Array.from({ length: 1500 }, (_, i) =>
          agent.emit({
            deviceId: 'meter',
            type: 'sensor.telemetry',
            priority: 'normal',
            data: { i, note: 'x'.repeat(80) },
          }),
        ),
      );
      let telemetryArrived = 0;
      sub.on('event', (e) => e.type === 'sensor.telemetry' && (telemetryArrived += 1));
      await agent.start();
      await waitUntil(() => telemetryArrived >= 100, 60_000, 'the backlog draining');

      const aheadOfAlarm: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = telemetryArrived;
        const alarm = await press(agent);
        await waitUntil(() => sub.events.has(alarm.id), 60_000, `alarm ${i} at the county`);
        aheadOfAlarm.push(telemetryArrived - before);
        expect(agent.observe.backlog().backlog.normal.count, 'still draining when the alarm arrived').toBeGreaterThan(
          0,
        );
      }
      const stats = agent.observe.link();
      // The budget is rate x (round trip + 0.5 s) ~ 6 KB, plus one message of 0.25 s: ~25 events.
      // Allow four times that; the count-only window let ~1,900 events go ahead.
      expect(Math.max(...aheadOfAlarm), `telemetry ahead of each alarm: ${aheadOfAlarm.join(', ')}`).toBeLessThan(100);
      expect(stats.link.rateBytesPerSec, 'the link rate was measured').not.toBeNull();
      expect(stats.link.rateBytesPerSec!).toBeLessThan(RATE * 1.5);
      // The rest is the same check as everywhere else: every event, seqs without a gap, at full speed.
      link.rateBytesPerSec = 0;
      link.delayMs = 0;
      await check.expectAllDelivered(120_000);
    },
  );

  it('retries within seconds when an alarm waits, not after the grown backoff', async () => {
    const sub = await county('retry');
    const link = await new TcpProxy({ targetPort: brokerPort() }).start();
    cleanup(() => link.stop());
    link.cut();
    // A backoff of 60 s after the first failure; alarmRetry 200-400 ms.
    const agent = agentOn(link.url, 'gw-retry', {
      reconnect: { minMs: 60_000, maxMs: 300_000, jitter: 0 },
      alarmRetry: { minMs: 200, maxMs: 400 },
    });
    await startedWithLinkDown(agent);
    link.restore();
    const started = Date.now();
    const alarm = await press(agent);
    await waitUntil(() => sub.events.has(alarm.id), 30_000, 'the alarm at the county');
    // Without the urgent retry the next attempt is 60 s away; give a loaded machine room below that.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(agent.observe.link().attempts).toBe(2);
  });

  it('a modem that registers again ends a long backoff, alarm or not', async () => {
    const link = await new TcpProxy({ targetPort: brokerPort() }).start();
    cleanup(() => link.stop());
    link.cut();
    const agent = agentOn(link.url, 'gw-modem', { reconnect: { minMs: 60_000, maxMs: 300_000, jitter: 0 } });
    await startedWithLinkDown(agent);
    link.restore();
    await agent.emit({
      deviceId: 'modem1',
      type: 'modem.registration',
      priority: 'normal',
      data: { rssi: 14, dbm: -85, registration: 'registered-home', registered: true },
    });
    await waitUntil(() => agent.observe.link().up, 30_000, 'the uplink back (the backoff said 60 s)');
  });

  it('drops a link whose alarm PUBACK never comes, long before the keepalive would', async () => {
    const sub = await county('stall');
    const link = await new TcpProxy({ targetPort: brokerPort() }).start();
    cleanup(() => link.stop());
    const agent = agentOn(link.url, 'gw-stall', {
      keepaliveSec: 300, // the keepalive alone would take 7.5 minutes to notice
      alarmRetry: { minMs: 200, maxMs: 400, ackTimeoutMs: 1500, connectTimeoutMs: 1500 },
    });
    await agent.start();
    await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink');
    const reconnects = agent.observe.link().reconnects;
    link.stall(); // a cell gone without a FIN: nothing forwarded, nothing closed
    const alarm = await press(agent);
    await waitUntil(() => agent.observe.link().reconnects > reconnects, 30_000, 'the dead link dropped');
    expect(agent.observe.link().lastError).toMatch(/no PUBACK for an alarm/);
    link.restore();
    await waitUntil(() => sub.events.has(alarm.id), 30_000, 'the alarm at the county after the link came back');
  });
});
