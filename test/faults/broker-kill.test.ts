/**
 * The county's broker killed -9 and restarted (Mosquitto with persistence) while residents
 * press panic buttons, the rule answers and the county acknowledges. The gateway must notice
 * each loss, reconnect with backoff, and send again, with the same ids, whatever the broker
 * had not acknowledged.
 *
 * What a broker kill -9 can lose is not the gateway's to save: a PUBACK means the broker has
 * the message, not that the county has it, and Mosquitto keeps only what its last autosave
 * wrote (stack notes). So the broker autosaves every second, the county's subscription is
 * saved before the first kill, and each kill waits until the county is back and caught up:
 * what is then in flight between the gateway and the broker is the gateway's, and the
 * checker holds it to every event. A cellular-like delay (a proxy, 100 ms each way) keeps
 * messages in flight when the broker dies.
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { County } from '../helpers/county.js';
import { faultSize } from '../helpers/fault-size.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const KILLS = faultSize(3, 15);
const tempDir = useTempDirs();
const cleanup = useCleanups();
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker({ persistence: true, autosaveIntervalSec: 1, needsMosquitto: true });
});
afterAll(async () => broker?.dispose());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const savedAt = (file: string) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};

describe('broker kill -9 with persistence', () => {
  it(
    `delivers every event across ${KILLS} broker kills while buttons are pressed`,
    { timeout: faultSize(60_000, 300_000) },
    async () => {
      const county = await County.start(broker.url, 'broker-kill');
      cleanup(() => county.stop());
      const subscribedAt = Date.now();
      await waitUntil(
        () => savedAt(broker.mosquitto!.persistenceFile) > subscribedAt,
        10_000,
        "the county's session saved by the broker",
      );
      const panel = await new PanicPanel().start();
      cleanup(() => panel.close());
      const cell = await new TcpProxy({ targetPort: Number(new URL(broker.url).port) }).start();
      cell.delayMs = 100;
      cleanup(() => cell.stop());
      const agent: Agent = villageAgent({ url: cell.url, dir: tempDir(), panel, gatewayId: 'gw-broker-kill' });
      county.check.watch(agent);
      await agent.start();
      cleanup(() => agent.stop());
      await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink');

      panel.startResidents([100, 400]);
      let killedInFlight = 0; // kills that caught messages published but not acknowledged
      for (let i = 0; i < KILLS; i++) {
        if (i % 2 === 0) {
          // Right as the rule answers a press: the press and its alert are on their way.
          const sirens = panel.sirens;
          await waitUntil(() => panel.sirens > sirens, 10_000, 'a press answered by the siren');
        } else await sleep(300 + Math.random() * 1500); // pacing: a random moment of the run
        const downs = agent.observe.link().reconnects;
        if (agent.observe.link().inflight > 0) killedInFlight += 1;
        await broker.stop('SIGKILL');
        await waitUntil(
          () => agent.observe.link().reconnects > downs,
          10_000,
          'the gateway noticing the broker is gone',
        );
        await sleep(Math.random() * 1500); // presses while the broker is down wait in the outbox
        await broker.start();
        await waitUntil(
          () => agent.observe.link().up && county.sub.client!.connected,
          15_000,
          'the gateway and the county back on the broker',
        );
        await county.check.expectAllDelivered(15_000); // caught up before the next kill (see above)
      }
      await panel.stopResidents();

      const verdict = await county.check.expectAllDelivered(20_000);
      await waitUntil(() => county.unanswered === 0, 20_000, 'a reply to every acknowledgement');
      const alerts = county.received('alert.raised');
      expect(alerts.length).toBeGreaterThanOrEqual(KILLS);
      expect(
        alerts.filter((a) => !['acknowledged', 'already'].includes(county.acks.get(a.id) ?? 'none')),
        'alerts not acknowledged',
      ).toEqual([]);
      expect(county.received('alarm.pressed').length).toBe(alerts.length); // one alert per press (cooldown 0)
      expect(killedInFlight, 'kills that caught messages in flight').toBeGreaterThan(0);
      console.log(
        `broker kill -9 x${KILLS}: ${verdict.distinct} events checked, ${verdict.duplicates} duplicates (identical); ` +
          `${killedInFlight} kills with messages in flight; ${panel.presses} presses, ${alerts.length} alerts, all acknowledged; ${agent.observe.link().reconnects} reconnects`,
      );
    },
  );
});
