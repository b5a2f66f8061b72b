/**
 * PUBACKs that never come: between the gateway and the broker, a proxy stops forwarding the
 * broker-to-gateway direction only. The gateway's publishes still reach the broker (and the
 * county), but no acknowledgement (and no PINGRESP) comes back. The gateway must not count
 * anything as delivered: it notices by keepalive, reconnects, and sends every unacknowledged
 * event again with the same id, so the county receives identical duplicates, never a loss.
 */
import { describe, expect, it } from 'vitest';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { County } from '../helpers/county.js';
import { faultSize } from '../helpers/fault-size.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const STALLS = faultSize(1, 3);
const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('PUBACKs that never come', () => {
  it(
    `resends every unacknowledged event with the same id after the gateway notices (${STALLS} stalls)`,
    { timeout: faultSize(60_000, 180_000) },
    async () => {
      const broker = brokerRef.current;
      const proxy = await new TcpProxy({ targetPort: Number(new URL(broker.url).port) }).start();
      cleanup(() => proxy.stop());
      const county = await County.start(broker.url, 'lost-puback'); // the county's own link is fine
      cleanup(() => county.stop());
      const resent = new Set<string>();
      county.sub.on('duplicate', (ev) => resent.add(ev.id));
      const panel = await new PanicPanel().start();
      cleanup(() => panel.close());
      const agent = villageAgent({
        url: proxy.url,
        dir: tempDir(),
        panel,
        gatewayId: 'gw-lost-puback',
        over: { mqtt: { keepaliveSec: 5, connectTimeoutMs: 2000 } },
      });
      county.check.watch(agent);
      await agent.start();
      cleanup(() => agent.stop());
      await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink');

      await waitUntil(() => agent.observe.backlog().total.count === 0, 10_000, 'the start-up events acknowledged');

      for (let i = 0; i < STALLS; i++) {
        const downs = agent.observe.link().reconnects;
        proxy.stall(['down']);
        const before = new Set(county.received('alarm.pressed').map((e) => e.id));
        expect(await panel.press(i % 2 === 0 ? 'di1' : 'di2')).toBe(true);
        // The press reaches the county: only its acknowledgement is lost.
        await waitUntil(
          () => county.received('alarm.pressed').length > before.size,
          10_000,
          'the press at the county while PUBACKs are lost',
        );
        const press = county.received('alarm.pressed').find((e) => !before.has(e.id))!;
        expect(agent.observe.backlog().total.count, 'nothing counted as delivered without its PUBACK').toBeGreaterThan(
          0,
        );
        await waitUntil(
          () => agent.observe.link().reconnects > downs,
          30_000,
          'the gateway giving up on the silent link',
        );
        expect(proxy.dropped.down).toBeGreaterThan(0);
        proxy.restore();
        // Sent, not acknowledged, sent again: the same id arrives twice (identical: the checker).
        await waitUntil(() => resent.has(press.id), 30_000, 'the press sent again with the same id');
        await waitUntil(
          () => agent.observe.backlog().total.count === 0,
          20_000,
          'the backlog acknowledged on the new link',
        );
        await county.check.expectAllDelivered(20_000);
      }

      const verdict = await county.check.expectAllDelivered(20_000);
      await waitUntil(
        () => county.unanswered === 0 && county.received('alert.acknowledged').length === STALLS,
        30_000,
        'every alert acknowledged',
      );
      console.log(
        `lost PUBACKs x${STALLS}: ${verdict.distinct} events checked, ${verdict.duplicates} identical duplicates (${resent.size} ids re-sent), ${agent.observe.link().reconnects} reconnects`,
      );
    },
  );
});
