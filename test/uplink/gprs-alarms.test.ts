/**
 * Review probe with real peers: agent -> WeakLink 'gprs' (40 kbit/s, 600 ms one way, 200 ms
 * jitter, 16 KB modem buffer) -> Mosquitto -> CountySubscriber. A compact backlog drains;
 * alarms are pressed while it does. What an alarm waits, and whether watchAlarm (ackTimeoutMs
 * 10 s, the default) ever drops this healthy slow link.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { WeakLink } from '../../scripts/weak-link/weak-link.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('alarms over gprs', () => {
  it(
    'alarms pressed during a compact backlog drain arrive within seconds, no drop of the healthy link',
    { timeout: 300_000 },
    async () => {
      const sub = await startCounty(brokerRef.current.url, cleanup, 'county-gprs');
      const link = await WeakLink.start({ targetPort: Number(new URL(brokerRef.current.url).port), profile: 'gprs' });
      cleanup(() => link.stop());
      const dir = tempDir();
      const config = testConfig(link.url, dir, {
        gateway: { id: 'gw-gprs' },
        mqtt: {
          replay: { messagesPerSec: 50, burst: 100 },
          wire: { format: 'compact', compression: 'deflate', lingerMs: 60_000 },
        },
      });
      const agent = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger() });
      cleanup(() => agent.stop());
      const check = new DeliveryCheck(sub).watch(agent);
      await agent.open(); // the outbox, for a backlog queued before the link starts
      await Promise.all(
        Array.from({ length: 3000 }, (_, i) =>
          agent.emit({
            deviceId: `meter${i % 7}`,
            type: 'sensor.telemetry',
            priority: 'normal',
            data: { i, v: Math.random(), note: 'x'.repeat(60) },
          }),
        ),
      );
      await agent.start();
      await waitUntil(() => agent.observe.link().up, 30_000, 'up');
      const latencies: number[] = [];
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 4000));
        const t0 = Date.now();
        const alarm = await agent.emit({
          deviceId: 'btn',
          type: 'alarm.pressed',
          priority: 'critical',
          data: { input: 'in1', active: true },
        });
        await waitUntil(() => sub.events.has(alarm.id), 60_000, `alarm ${i}`);
        latencies.push(Date.now() - t0);
      }
      const l = agent.observe.link();
      expect(l.reconnects, `lastError ${l.lastError}`).toBe(0);
      expect(Math.max(...latencies)).toBeLessThan(8000);
      link.setProfile('good-4g');
      await check.expectAllDelivered(180_000);
    },
  );
});
