/**
 * The example topology for a county past one broker (scripts/brokers/county/*.conf), run as
 * written on two real Mosquittos: a gateway (the agent's own uplink) publishes to its district
 * edge broker, the bridge carries the events to the county core, a county subscriber there gets
 * every one; while the core is stopped the edge takes the gateway's events (PUBACKs) and its
 * bridge queue keeps them, and after the core is back they all arrive.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startCountyTopology } from '../../scripts/brokers/county-topology.js';
import { DeliveryChecker } from '../../scripts/county/delivery-checker.js';
import { GatewayTwin } from '../../scripts/county/fleet-twin.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { requireMosquitto } from '../helpers/broker.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useUnhandled } from '../helpers/unhandled.js';
import { waitUntil } from '../helpers/wait.js';

const cleanup = useCleanups();
const unhandled = useUnhandled();

/** Resolves once the bridge says it is up ("1" on its notification topic, retained on the core). */
async function bridgeUp(url: string): Promise<void> {
  const watcher = await mqtt.connectAsync(url, { clientId: `bridge-watch-${Date.now()}`, reconnectPeriod: 0 });
  watcher.on('error', () => {}); // the core may go away under it; the wait below fails by name then
  try {
    let state = '';
    watcher.on('message', (_t, payload) => (state = payload.toString()));
    await watcher.subscribeAsync('county/bridges/district-north/state', { qos: 1 });
    await waitUntil(() => state === '1', 30_000, 'the bridge to the core to be up');
  } finally {
    await watcher.endAsync(true);
  }
}

describe('a district edge bridged to the county core', () => {
  it('carries a gateway’s events to the core, and queues them while the core restarts', async () => {
    const { core, edge } = await startCountyTopology(requireMosquitto());
    cleanup(() => core.dispose());
    cleanup(() => edge.dispose());
    await bridgeUp(core.url);

    const county = new CountySubscriber({ url: core.url, clientId: 'county-core-1', protocolVersion: 5 });
    const checker = new DeliveryChecker();
    county.on('arrival', (ev) => checker.receive(ev));
    cleanup(() => county.stop());
    await county.start();

    // The gateway knows only its edge broker.
    const twin = new GatewayTwin({ gatewayId: 'gw-north-1', url: edge.url, protocolVersion: 5 });
    cleanup(() => twin.stop());
    twin.start();
    twin.backlog(30);
    await waitUntil(() => county.events.size >= 31, 30_000, 'the first 31 events at the core');

    // The core goes away (SIGTERM: its persistence, the county's session among it, is saved).
    await core.stop('SIGTERM');
    twin.backlog(40);
    // The edge took them all: the gateway's outbox is empty although the core is down.
    await waitUntil(() => twin.outbox.size === 0, 30_000, 'the edge to PUBACK the events sent while the core is down');
    expect(county.events.size).toBe(31);

    await core.start();
    await waitUntil(() => county.events.size >= 71, 40_000, 'the queued events after the core is back');
    const verdict = checker.verdict();
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ ok: true, distinct: 71 });
    expect(twin.produced).toBe(71);
    expect(unhandled.errors).toEqual([]);
  });
});
