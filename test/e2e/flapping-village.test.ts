/**
 * A village on a flapping cell, end to end: residents press panic buttons (a Modbus panel with
 * a rule: siren, LED, alert) and sensors report five times a second, through the weak-link
 * lab's `flapping` profile (weak-3g that loses the cell for 45 s every 5 minutes and comes back
 * with every connection reset), time-compressed 60x so a 5-minute period takes 5 s, to a real
 * broker and a county that acknowledges every alert. Every committed id must arrive, each
 * boot's seqs contiguous; every press must be answered by the siren whatever the link does.
 */
import { describe, expect, it } from 'vitest';
import { WeakLink } from '../../scripts/weak-link/weak-link.js';
import { County } from '../helpers/county.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const TIME_SCALE = 60;
const PERIODS = 4;

describe('a village on a flapping cell', () => {
  it('delivers every press, alert and reading across outages and resets', { timeout: 120_000 }, async () => {
    const broker = brokerRef.current;
    const county = await County.start(broker.url, 'flapping');
    cleanup(() => county.stop());
    const link = await WeakLink.start({
      targetPort: Number(new URL(broker.url).port),
      profile: 'flapping',
      timeScale: TIME_SCALE,
    });
    cleanup(() => link.stop());
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const agent = villageAgent({ url: link.url, dir: tempDir(), panel, gatewayId: 'gw-flapping' });
    county.check.watch(agent);
    await agent.start();
    cleanup(() => agent.stop());

    const telemetry = setInterval(
      () => void agent.emit({ deviceId: 'meter', type: 'sensor.telemetry', priority: 'normal', data: { tempC: 4.5 } }),
      200,
    );
    cleanup(() => clearInterval(telemetry));
    const periodMs = (5 * 60_000) / TIME_SCALE;
    const until = Date.now() + PERIODS * periodMs;
    let presses = 0;
    let answered = 0;
    while (Date.now() < until) {
      presses += 1;
      if (await panel.press(presses % 2 === 0 ? 'di2' : 'di1')) answered += 1;
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 600));
    }
    clearInterval(telemetry);

    const outages = link.history.filter((c) => c.mode === 'blackhole').length;
    expect(outages, 'the cell was lost in every period').toBeGreaterThanOrEqual(PERIODS - 1);
    expect(agent.observe.link().reconnects, 'the resets dropped the link').toBeGreaterThanOrEqual(PERIODS - 1);
    expect(answered, 'the siren answered every press, link or not').toBe(presses);
    await waitUntil(() => agent.observe.backlog().total.count === 0, 60_000, 'the outbox to empty');
    const verdict = await county.check.expectAllDelivered(60_000);
    const pressed = [...county.sub.events.values()].filter((e) => e.type === 'alarm.pressed').length;
    expect(pressed, 'every press at the county').toBe(presses);
    expect(verdict.distinct).toBeGreaterThan(PERIODS * periodMs * 0.004); // the readings came too
  });
});
