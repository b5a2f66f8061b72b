/**
 * The fleet script against a real Mosquitto: light twins (the agent's own Uplink over an outbox
 * in memory) deliver every event, seqs contiguous per gateway, judged by the county's
 * DeliveryChecker too; and a broker restart in the middle of a run loses nothing.
 */
import { describe, expect, it } from 'vitest';
import { runFleet } from '../../scripts/county/fleet.js';
import { VILLAGE } from '../../scripts/county/fleet-twin.js';
import { startBroker } from '../helpers/broker.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useUnhandled } from '../helpers/unhandled.js';

const cleanup = useCleanups();
const unhandled = useUnhandled();

/** A busy village: a reading every 2 s per sensor, and doors and presses often enough to see some in seconds. */
const BUSY = { ...VILLAGE, readingsPerMin: 30, doorsPerHour: 900, alarmsPerHour: 900, healthSec: 1 };

describe('fleet of gateway twins', () => {
  it('20 gateways: every event of every twin arrives, seqs contiguous per gateway', async () => {
    const broker = await startBroker({ needsMosquitto: true });
    cleanup(() => broker.dispose());
    const r = await runFleet({
      url: broker.url,
      gateways: 20,
      backlog: 50,
      seconds: 3,
      village: BUSY,
      staggerMs: 5,
      check: true,
      brokerPid: broker.mosquitto!.pid!,
    });
    expect(r.connected).toBe(20);
    // gateway.started + the backlog, then the village's own events.
    expect(r.backlog!.events).toBe(20 * 50);
    expect(r.live!.events).toBeGreaterThan(20 * 3 * 10 * 0.5);
    expect(r.produced).toBe(20 + r.backlog!.events + r.live!.events);
    expect({ lost: r.lost, gaps: r.gaps, delivered: r.delivered }).toEqual({
      lost: 0,
      gaps: [],
      delivered: r.produced,
    });
    expect(r.verdict).toMatchObject({ ok: true, problems: [], distinct: r.produced });
    expect(r.live!.latencyMs.p50).toBeGreaterThanOrEqual(0);
    // The broker's own process was read: its memory is there; its CPU is counted in 10 ms ticks, and
    // Mosquitto can take fewer than one for this little (seen as 0 once on a loaded machine).
    expect(r.broker!.rssMb).toBeGreaterThan(0);
    expect(r.broker!.cpuSec).toBeGreaterThanOrEqual(0);
    expect(unhandled.errors).toEqual([]);
  });

  it('a broker restart in the middle of the run loses nothing (the twins re-send, sessions persist)', async () => {
    const broker = await startBroker({ needsMosquitto: true, persistence: true });
    cleanup(() => broker.dispose());
    let restarted = false;
    let restart: Promise<void> = Promise.resolve();
    // Once the village phase runs (every twin connected and announced): stop and start the broker.
    const restartBroker = async () => {
      await new Promise((r) => setTimeout(r, 1500));
      await broker.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      await broker.start();
      restarted = true;
    };
    const r = await runFleet({
      url: broker.url,
      gateways: 10,
      seconds: 6,
      village: BUSY,
      staggerMs: 5,
      check: true,
      // Back within a second of the broker, like an agent with a short backoff.
      mqtt: { reconnect: { minMs: 200, maxMs: 1000 } },
      onPhase: (phase) => {
        if (phase !== 'live') return;
        restart = restartBroker();
        restart.catch(() => {}); // observed here so a failure waits for the `await restart` below to fail the test
      },
    });
    await restart;
    expect(restarted).toBe(true);
    expect(r.reconnects).toBeGreaterThanOrEqual(10); // every twin lost its link and came back
    expect({ lost: r.lost, gaps: r.gaps, delivered: r.delivered }).toEqual({
      lost: 0,
      gaps: [],
      delivered: r.produced,
    });
    expect(r.verdict).toMatchObject({ ok: true, problems: [], distinct: r.produced });
    expect(unhandled.errors).toEqual([]);
  });
});
