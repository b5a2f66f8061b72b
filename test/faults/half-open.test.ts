/**
 * A half-open link: the broker is frozen (SIGSTOP) with its sockets open, as a hung broker or
 * a cell that died without a FIN looks to the gateway: nothing is refused, nothing answers.
 * A resident presses a panic button meanwhile. The gateway must notice by its keepalive
 * (no PINGRESP within 1.5 x keepalive), drop the link, keep retrying, and once the broker
 * thaws (SIGCONT) send everything, the press and its alert first, with the same ids.
 */
import { describe, expect, it } from 'vitest';
import { County } from '../helpers/county.js';
import { faultSize } from '../helpers/fault-size.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const FREEZES = faultSize(1, 3);
const KEEPALIVE_SEC = 5; // the schema's minimum
const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('a half-open link (broker frozen)', () => {
  it(
    `notices the hung link by keepalive and delivers everything once the broker answers again (${FREEZES} freezes)`,
    { timeout: faultSize(60_000, 180_000) },
    async () => {
      const broker = brokerRef.current;
      if (!broker.mosquitto) throw new Error('this test freezes a real Mosquitto (SIGSTOP): install mosquitto');
      const county = await County.start(broker.url, 'half-open');
      cleanup(() => county.stop());
      const panel = await new PanicPanel().start();
      cleanup(() => panel.close());
      const agent = villageAgent({
        url: broker.url,
        dir: tempDir(),
        panel,
        gatewayId: 'gw-half-open',
        over: { mqtt: { keepaliveSec: KEEPALIVE_SEC, connectTimeoutMs: 2000 } },
      });
      county.check.watch(agent);
      await agent.start();
      cleanup(() => agent.stop());
      await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink');
      expect(await panel.press('di1')).toBe(true); // before: delivered and acknowledged as usual

      for (let i = 0; i < FREEZES; i++) {
        const downs = agent.observe.link().reconnects;
        broker.mosquitto.signal('SIGSTOP');
        let frozen = true;
        cleanup(() => frozen && broker.mosquitto!.signal('SIGCONT'));
        expect(await panel.press(i % 2 === 0 ? 'di2' : 'di1'), 'the siren sounds with the link hung').toBe(true);
        const stoppedAt = Date.now();
        // Keepalive 5 s: a PINGREQ after 5 s of silence, given up at 7.5 s; generous on a shared machine.
        await waitUntil(() => agent.observe.link().reconnects > downs, 30_000, 'the gateway noticing the hung link');
        const noticedAfterMs = Date.now() - stoppedAt;
        expect(agent.observe.link().up).toBe(false);
        broker.mosquitto.signal('SIGCONT');
        frozen = false;
        await waitUntil(() => agent.observe.link().up, 30_000, 'the uplink back after the broker thawed');
        await county.check.expectAllDelivered(20_000);
        console.log(
          `freeze ${i + 1}: the gateway dropped the hung link after ${noticedAfterMs} ms (keepalive ${KEEPALIVE_SEC} s)`,
        );
      }

      const verdict = await county.check.expectAllDelivered(20_000);
      await waitUntil(
        () => county.unanswered === 0 && county.received('alert.acknowledged').length === FREEZES + 1,
        20_000,
        'every alert acknowledged',
      );
      expect(county.received('alarm.pressed')).toHaveLength(FREEZES + 1);
      expect([...county.acks.values()].every((o) => o === 'acknowledged' || o === 'already')).toBe(true);
      console.log(
        `half-open x${FREEZES}: ${verdict.distinct} events checked, ${verdict.duplicates} duplicates (identical), ${panel.ledsLit} LEDs lit`,
      );
    },
  );
});
