/**
 * The village with a wall clock that jumps: a year forward (NTP after a Pi booted without an
 * RTC), a month forward with an alert open, two years back, while residents press panic buttons, the rule
 * answers, a meter reports, and the uplink is cut for a while (a proxy; the county's own
 * link stays up, so nothing is lost to a broker without the county's session). Age caps are tight (60 s)
 * and the SMS fallback and escalation are armed. Nothing may be shed by age, nothing sent by
 * SMS, nothing reordered; everything reaches the county (the checker) and every alert is
 * acknowledged. At the end real time passes (the clock's monotonic side) with the link down,
 * and the fallback SMS does go: the quiet before was not for lack of a way to send.
 */
import { describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '../../scripts/county-subscriber.js';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { County } from '../helpers/county.js';
import { JumpingClock } from '../helpers/jumping-clock.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('wall-clock jumps in a running village', () => {
  it('neither reorder, nor shed by age cap, nor send an SMS', { timeout: 60_000 }, async () => {
    const broker = brokerRef.current;
    const link = await new TcpProxy({ targetPort: Number(new URL(broker.url).port) }).start();
    cleanup(() => link.stop());
    const county = await County.start(broker.url, 'clock');
    cleanup(() => county.stop());
    const arrivals: ReceivedEvent[] = [];
    county.sub.on('event', (ev) => arrivals.push(ev));
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const clock = new JumpingClock();
    const agent = villageAgent({
      url: link.url,
      dir: tempDir(),
      panel,
      gatewayId: 'gw-clock',
      clock,
      over: {
        devices: [
          ...panel.config().devices,
          { id: 'meter', driver: 'synthetic', rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: 20 } },
        ],
        health: { intervalSec: 1 },
        outbox: { maxAgeSec: { high: 60, normal: 60, low: 60 } },
        alarms: { smsTo: ['13800138000'], smsWhenUplinkDownSec: 20, escalateAfterSec: 30 },
      },
    });
    county.check.watch(agent);
    await agent.start();
    cleanup(() => agent.stop());
    await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink');
    const acked = (n: number) =>
      waitUntil(() => county.received('alert.acknowledged').length >= n, 10_000, `${n} alerts acknowledged`);
    /** What the agent's timers would do on their own, right now (age caps every minute, SMS every second). */
    const sweep = async () => {
      expect(agent.jobs.sweepAges(), 'shed by age cap').toBe(0);
      await agent.jobs.checkSms();
    };

    expect(await panel.press('di1')).toBe(true);
    await acked(1);
    clock.jumpWall(YEAR);
    await sweep();
    expect(await panel.press('di2')).toBe(true);
    await acked(2);

    // The link goes; an alert waits for the county; the clock moves a month forward, then two years back.
    link.cut();
    await waitUntil(() => !agent.observe.link().up, 10_000, 'the uplink down');
    expect(await panel.press('di1')).toBe(true);
    await waitUntil(() => agent.observe.alarms().alerts.length === 3, 5000, 'the third alert');
    clock.jumpWall(30 * DAY);
    await sweep();
    clock.jumpWall(-2 * YEAR);
    await sweep();
    link.restore();
    await acked(3);
    await sweep();

    const verdict = await county.check.expectAllDelivered(20_000);
    expect(
      Object.values(agent.observe.backlog().shed).every((n) => n === 0),
      'nothing shed',
    ).toBe(true);
    expect(agent.observe.alarms().smsPending, 'no SMS queued').toEqual([]);
    expect(agent.observe.alarms().alerts.filter((a) => a.smsSentAt || a.escalatedAt)).toEqual([]);
    expect(county.received('alarm.pressed')).toHaveLength(3);
    // Not reordered: within each priority, first arrivals come in seq order.
    for (const priority of ['critical', 'high', 'normal', 'low']) {
      const seqs = arrivals.filter((e) => e.priority === priority).map((e) => e.seq);
      expect(seqs, `${priority} in seq order`).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(arrivals.filter((e) => e.type === 'sensor.telemetry').length).toBeGreaterThan(0);

    // Real time passing with the link down does send the fallback SMS.
    link.cut();
    await waitUntil(() => !agent.observe.link().up, 10_000, 'the uplink down again');
    expect(await panel.press('di2')).toBe(true);
    await waitUntil(() => agent.observe.alarms().alerts.length === 4, 5000, 'the fourth alert');
    clock.elapse(21_000);
    await agent.jobs.checkSms();
    expect(agent.observe.alarms().smsPending.map((m) => m.reason)).toEqual([
      expect.stringMatching(/^uplink down for 2\d s$/),
    ]);
    link.restore();
    await acked(4);
    await county.check.expectAllDelivered(20_000);
    console.log(
      `clock jumps: ${verdict.distinct} events checked, nothing shed, no SMS until real time passed; ${arrivals.length} arrivals in order`,
    );
  });
});
