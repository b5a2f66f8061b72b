/**
 * A full card (a small tmpfs, as root; CI runs as root): the agent keeps running its local
 * rules (a press still sounds the siren), fails no write past the outbox (no uncaught
 * SQLITE_FULL, in the drain's delete either), counts and rate-limits the failures, tells the
 * county how many events it could not store, and recovers by itself when space returns.
 * Off root, the test says so and fails: a byte cap does not exercise these paths.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { startBoard } from '../helpers/field-peers.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { fillCard, fullCardVillage, mountSmallCard } from '../helpers/small-card.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const SIREN_COIL = 6; // do7

describe(`a full disk (${process.getuid?.() === 0 ? 'a 3 MB tmpfs' : 'needs root for a tmpfs'})`, () => {
  it('keeps the siren sounding, crashes nowhere, reports what it could not store, and recovers when space returns', async () => {
    expect(process.getuid?.(), 'this test mounts a tmpfs: run it as root (CI does)').toBe(0);
    const dataDir = mountSmallCard(tempDir(), '3m', cleanup);

    const county = await startCounty(brokerRef.current.url, cleanup, 'county-full');
    const check = new DeliveryCheck(county);
    const { sim, board } = await startBoard(cleanup);
    const config = testConfig(brokerRef.current.url, dataDir, {
      gateway: { id: 'gw-full' },
      ...fullCardVillage({ simPort: sim.port, telemetryPerSec: 200, sirenPulseMs: 200 }),
    });
    const rig = new AgentRig(config, dataDir);
    check.watch(rig.agent);
    await rig.agent.start();
    cleanup(() => rig.agent.stop());
    const sirens = () => sim.writes.filter((w) => w.address === SIREN_COIL && w.value === true).length;
    const press = async (n: number) => {
      board.set('di1', true);
      await waitUntil(() => rig.events.filter((e) => e.type === 'alarm.pressed').length >= n, 3000, `press ${n}`);
      board.set('di1', false);
      await waitUntil(() => rig.events.filter((e) => e.type === 'alarm.released').length >= n, 3000, `release ${n}`);
      await waitUntil(() => sirens() >= n, 3000, `siren ${n}`);
    };
    await press(1);

    expect(rig.agent.observe.backlog().diskReserve).toMatchObject({ held: true, releases: 0 });
    const filler = fillCard(dataDir);
    await waitUntil(() => rig.agent.observe.storage().eventsNotStored > 50, 15_000, 'writes failing on the full disk');
    await press(2); // the safety loop does not depend on the disk
    await press(3);
    expect(rig.agent.observe.storage().failures.commit).toBeGreaterThan(0);
    // The reserve went to the alarms: both presses (and their alerts) are stored and reach the county.
    expect(rig.agent.observe.backlog().diskReserve).toMatchObject({ held: false, releases: 1 });
    const pressed = () => rig.events.filter((e) => e.type === 'alarm.pressed');
    await county.waitFor(
      () =>
        pressed()
          .slice(1, 3)
          .every((e) => county.events.has(e.id)),
      15_000,
    );
    await county.waitFor(() => [...county.events.values()].some((e) => e.type === 'gateway.disk_full'), 15_000);

    // A restart on the full disk: it starts, runs its rules, stores the alarm.
    await rig.agent.stop();
    const again = new AgentRig(config, dataDir);
    check.watch(again.agent);
    await again.agent.start();
    cleanup(() => again.agent.stop());
    const before = sirens();
    board.set('di1', true);
    await waitUntil(() => again.events.some((e) => e.type === 'alarm.pressed'), 5000, 'a press after the restart');
    board.set('di1', false);
    await waitUntil(() => sirens() > before, 3000, 'the siren after the restart');
    await waitUntil(() => again.events.some((e) => e.type === 'alarm.released'), 5000, 'a release after the restart');

    rmSync(filler);
    const failedBefore = again.agent.observe.storage().eventsNotStored;
    board.set('di1', true);
    await waitUntil(
      () => again.events.filter((e) => e.type === 'alarm.pressed').length >= 2,
      5000,
      'a press once there is room',
    );
    board.set('di1', false);
    const last = again.events.filter((e) => e.type === 'alarm.pressed')[1]!;
    await county.waitFor(() => county.events.has(last.id), 15_000);
    await waitUntil(() => again.agent.observe.backlog().diskReserve.held, 10_000, 'the reserve written again');
    // The county hears how many events the full disk cost (counted as shed, reason storage).
    await county.waitFor(
      () =>
        [...county.events.values()].some(
          (e) =>
            e.type === 'gateway.events_shed' && ((e.data.counts as Record<string, number>)['normal/storage'] ?? 0) > 0,
        ),
      15_000,
    );
    await check.expectAllDelivered(20_000);
    expect(again.agent.observe.storage().eventsNotStored - failedBefore).toBeLessThan(50); // it recovered
  });
});
