/**
 * offlineAfterSec over a real pty pair (socat): a receiver that decodes nothing for that long is reported
 * offline, once, and online at its next record.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { systemClock } from '../../core/kernel/system-clock.js';
import { testConfig } from '../helpers/agent-config.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { startChecked } from '../helpers/delivery.js';
import { startSerialDevice } from '../helpers/field-peers.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

describe('serial offlineAfterSec', () => {
  it(
    'a silent receiver: device.offline (reason silent) after 1 s without a record, once; device.online before its next record',
    { timeout: 30_000 },
    async () => {
      const { pty, device } = await startSerialDevice(cleanup, 'quiet');
      const dir = tempDir();
      const config = testConfig(brokerRef.current.url, dir, {
        devices: [
          {
            id: 'rf-rx',
            driver: 'serial',
            path: pty.b,
            profile: 'rf433-uart-decoder-fd-df',
            offlineAfterSec: 1,
            sensors: { A1B2C: { id: 'storehouse-door', role: 'door' } },
          },
        ],
      });
      // The agent's own clock, so the test can say when a record was sent in the events' time.
      const clock = systemClock('always');
      const agent = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger(), clock });
      const events: GatewayEvent[] = [];
      agent.observe.onEvent((e) => events.push(e));
      const of = (type: string) => events.filter((e) => e.deviceId === 'rf-rx' && e.type === type);
      const waitFor = async (pred: (e: GatewayEvent) => boolean, what: string) => {
        await waitUntil(() => events.some(pred), 5000, what);
        return events.find(pred)!;
      };
      await startChecked(agent, brokerRef.current.url, cleanup);
      const driver = agent.drivers[0]!;
      await waitUntil(() => driver.describe().online, 5000, 'the port');

      // A record cannot arrive before it is sent, so silence reported before sentAt + 1 s would be early.
      const firstSentAt = clock.monoMs();
      await device.send(Buffer.from('FDA1B2CEDF', 'hex'));
      await waitFor((e) => e.type === 'door.opened', 'the record');
      const offline = await waitFor(
        (e) => e.deviceId === 'rf-rx' && e.type === 'device.offline',
        'offline after the silence',
      );
      expect(offline).toMatchObject({ priority: 'high', data: { path: pty.b, reason: 'silent', silentForSec: 1 } });
      expect(offline.monoMs - firstSentAt).toBeGreaterThanOrEqual(1000);
      expect(driver.describe()).toMatchObject({ online: false, detail: { silent: true } });

      // Still silent a while longer: no second report (absence can only be shown by waiting).
      await new Promise((r) => setTimeout(r, 1300));
      expect(of('device.offline')).toHaveLength(1);

      const secondSentAt = clock.monoMs();
      await device.send(Buffer.from('FDA1B2C7DF', 'hex'));
      const closed = await waitFor((e) => e.type === 'door.closed', 'the next record');
      const online = of('device.online');
      expect(online).toHaveLength(1);
      expect(online[0]).toMatchObject({ priority: 'high', data: { path: pty.b, reason: 'record' } });
      expect(online[0]!.seq).toBeLessThan(closed.seq); // the device is back before its event
      expect(driver.describe()).toMatchObject({ online: true });

      // A new silence is reported again.
      const second = await waitFor(
        (e) => e.deviceId === 'rf-rx' && e.type === 'device.offline' && e.seq > closed.seq,
        'offline after the second silence',
      );
      expect(second.monoMs - secondSentAt).toBeGreaterThanOrEqual(1000);
      expect(of('device.offline')).toHaveLength(2);
    },
  );
});
