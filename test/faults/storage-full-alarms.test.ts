/**
 * Alarms own the last bytes of the disk (a 3 MB tmpfs, as root; CI runs as root). Telemetry
 * fills the card; then:
 * - presses after it are stored (the reserve goes to them, and to nothing else) and reach
 *   the county with their alerts, while the storage failures are logged at most once a second;
 * - with the reserve's room taken too, a press is reported lost: `gateway.events_lost`
 *   reaches the county from memory naming its seqs, the checker fails naming them, and the
 *   alert goes out by SMS at once (the link is up: no uplink-down delay);
 * - restarted on the full card, the agent starts and the same holds;
 * - with the county out of reach, the report that only memory holds is stored once the card
 *   has room again, so the county hears of the loss after a restart.
 * Off root, the test says so and fails.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/brokers/free-port.js';
import { DeliveryChecker } from '../../scripts/county/delivery-checker.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { formatStatus } from '../../agent/status-report.js';
import { statusView } from '../../agent/status-view.js';
import { testConfig } from '../helpers/agent-config.js';
import { startBoard } from '../helpers/field-peers.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { fillCard, fullCardVillage, mountSmallCard } from '../helpers/small-card.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { startModem } from '../helpers/sms-village.js';
import { gsmModem } from '../helpers/village-config.js';
import { startCounty } from '../helpers/delivery.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const SIREN_COIL = 6; // do7

/** Error lines the agent logs, with the time each came. */
function capturingLogger() {
  const lines: { ms: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) {
        const { msg } = JSON.parse(l) as { msg: string };
        lines.push({ ms: Date.now(), msg });
      }
      done();
    },
  });
  return { logger: pino({ level: 'error' }, sink), lines };
}

/** The most lines about storage in any one second (events not stored, state files not saved). */
function storageLinesPerSecond(lines: { ms: number; msg: string }[]): number {
  const storage = lines.filter((l) => /not stored|not saved|storage writes failing/.test(l.msg)).map((l) => l.ms);
  let worst = 0;
  for (const t of storage) worst = Math.max(worst, storage.filter((u) => u >= t && u < t + 1000).length);
  return worst;
}

async function village(telemetryPerSec: number) {
  expect(process.getuid?.(), 'this test mounts a tmpfs: run it as root (CI does)').toBe(0);
  const dataDir = mountSmallCard(tempDir(), '3m', cleanup);
  const { sim, board } = await startBoard(cleanup);
  const { pty, sim: modem } = await startModem(cleanup);
  const county = await startCounty(brokerRef.current.url, cleanup);
  const config = testConfig(brokerRef.current.url, dataDir, {
    gateway: { id: 'gw-full-alarms', name: 'Qingshan' },
    ...fullCardVillage({
      simPort: sim.port,
      telemetryPerSec,
      sirenPulseMs: 100,
      extra: [gsmModem(pty.b)],
    }),
    alarms: { smsTo: ['13800138000'], smsWhenUplinkDownSec: 3600, escalateAfterSec: 3600 },
  });
  const sirens = () => sim.writes.filter((w) => w.address === SIREN_COIL && w.value === true).length;
  /** Starts the agent; `mqttUrl` points it elsewhere (a port nobody listens on: the county out of reach). */
  const run = async (mqttUrl?: string) => {
    const log = capturingLogger();
    const rig = new AgentRig(
      mqttUrl ? { ...config, mqtt: { ...config.mqtt, url: mqttUrl } } : config,
      dataDir,
      log.logger,
    );
    await rig.agent.start();
    cleanup(() => rig.agent.stop());
    await waitUntil(
      () => rig.agent.drivers.some((d) => d.describe().driver === 'modem' && d.describe().online),
      5000,
      'the modem',
    );
    const press = async () => {
      const n = rig.events.filter((e) => e.type === 'alarm.pressed').length + 1;
      const before = sirens();
      board.set('di1', true);
      await waitUntil(() => rig.events.filter((e) => e.type === 'alarm.pressed').length >= n, 5000, `press ${n}`);
      board.set('di1', false);
      await waitUntil(() => rig.events.filter((e) => e.type === 'alarm.released').length >= n, 5000, `release ${n}`);
      await waitUntil(() => sirens() > before, 5000, `siren ${n}`);
      return rig.events.filter((e) => e.type === 'alarm.pressed')[n - 1]!;
    };
    return { rig, log, press };
  };
  return { dataDir, config, county, modem, run };
}

const alertOf = (events: GatewayEvent[], pressId: string) =>
  events.find(
    (e) => e.type === 'alert.raised' && (e.data.causes as { id: string }[] | undefined)?.some((c) => c.id === pressId),
  );

describe(`alarms own the last bytes of the disk (${process.getuid?.() === 0 ? 'a 3 MB tmpfs' : 'needs root for a tmpfs'})`, () => {
  it('presses after telemetry filled the card are stored and reach the county; storage failures logged at most ~1/s', async () => {
    const { dataDir, county, run } = await village(200);
    const { rig, log, press } = await run();
    fillCard(dataDir, 'filler.bin');
    await waitUntil(
      () => rig.agent.observe.storage().eventsNotStored > 200,
      20_000,
      'telemetry failing on the full card',
    );
    const presses: GatewayEvent[] = [];
    for (let i = 0; i < 6; i++) {
      presses.push(await press());
      await new Promise((r) => setTimeout(r, 500)); // telemetry goes on meanwhile, and must not take the room
    }
    expect(rig.agent.observe.backlog().diskReserve).toMatchObject({ held: false, releases: 1 });
    const alerts = presses.map((p) => alertOf(rig.events, p.id));
    expect(alerts.every((a) => a !== undefined)).toBe(true);
    await county.waitFor(() => [...presses, ...alerts].every((e) => county.events.has(e!.id)), 20_000);
    expect([...county.events.values()].some((e) => e.type === 'gateway.events_lost')).toBe(false);
    const lines = log.lines.length;
    expect(storageLinesPerSecond(log.lines), `storage lines (${lines} in all)`).toBeLessThanOrEqual(3);
  });

  it('with the reserve used up too: presses reported lost from memory, SMS at once, the checker fails naming them; the same after a restart', async () => {
    // Little telemetry here: rows delivered and deleted leave free pages in the database that alarms would reuse.
    const { dataDir, county, modem, run } = await village(20);
    const checker = new DeliveryChecker();
    county.on('arrival', (e: unknown) => checker.receive(e));
    const reportedLost = (seq: number) =>
      [...county.events.values()].some(
        (e) =>
          e.type === 'gateway.events_lost' &&
          (e.data.seqs as [number, number][]).some(([a, b]) => seq >= a && seq <= b),
      );
    /** Presses until one is not stored (what room SQLite still finds in its own files goes first). */
    const pressUntilLost = async (press: () => Promise<GatewayEvent>) => {
      for (let i = 0; i < 20; i++) {
        const p = await press();
        const told = await county
          .waitFor(() => county.events.has(p.id) || reportedLost(p.seq), 10_000)
          .then(() => reportedLost(p.seq));
        if (told) return p;
      }
      throw new Error('20 presses stored on a full card without its reserve');
    };
    const first = await run();
    fillCard(dataDir, 'filler.bin');
    await waitUntil(() => first.rig.agent.observe.storage().eventsNotStored > 50, 20_000, 'telemetry failing');
    await first.press(); // lets the reserve go
    expect(first.rig.agent.observe.backlog().diskReserve.held).toBe(false);
    fillCard(dataDir, 'filler-2.bin'); // and the room it freed is gone too
    const lost = await pressUntilLost(first.press);
    const lostAlert = alertOf(first.rig.events, lost.id)!;
    await waitUntil(() => modem.sent.length >= 1, 20_000, 'the SMS for the lost alarm');
    expect(modem.sent[0]!.text).toMatch(/^Qingshan: panic \(house-1-panic, /);
    const v = checker.verdict();
    expect(v.ok).toBe(false);
    expect(v.reportedLost['gw-full-alarms']).toEqual(expect.arrayContaining([lost.seq, lostAlert.seq]));
    expect(v.problems.join('\n')).toMatch(/alarm events lost, reported by the gateway/);
    // A technician on site sees the loss in `status`.
    const view = statusView({
      observe: first.rig.agent.observe,
      gatewayId: 'gw-full-alarms',
      version: '0.0.0',
      now: Date.now,
      heartbeat: () => null,
      stopping: () => false,
      previousContact: null,
    });
    expect(view.lostAlarms?.lastSeqs).toEqual(expect.arrayContaining([lost.seq]));
    const text = formatStatus({
      agent: { state: 'running', pid: process.pid, updatedAgoSec: 0 },
      backlog: { source: 'agent', counts: view.backlog, problem: null },
      view,
    });
    expect(text).toMatch(/^lost {5}\d+ ALARMS NOT STORED$/m);
    expect(text).toMatch(/^ {2}last \d+ s ago, seq [\d,-]+$/m);
    expect(view.lostAlarms?.total).toBe(first.rig.agent.observe.lostAlarms().total);
    expect(first.rig.agent.observe.status()).toMatchObject({ lostAlarms: { total: expect.any(Number) } });
    // alarms.json could not be saved either (about ten writes a press): counted, logged with the rest once a second.
    expect(first.rig.agent.observe.storage().filesNotSaved['alarms.json']).toBeGreaterThan(0);
    expect(storageLinesPerSecond(first.log.lines)).toBeLessThanOrEqual(3);

    // Restarted on the full card: it starts, the siren sounds, the loss is told and the SMS goes.
    await first.rig.agent.stop();
    const again = await run();
    const smsBefore = modem.sent.length;
    await pressUntilLost(again.press);
    await waitUntil(() => modem.sent.length > smsBefore, 20_000, 'the SMS after the restart');
    expect(storageLinesPerSecond(again.log.lines)).toBeLessThanOrEqual(3);
  });

  it("with the county out of reach: the lost alarms' report waits in memory, is stored once the card has room, and reaches the county after a restart", async () => {
    const { dataDir, county, run } = await village(20);
    const first = await run(`mqtt://127.0.0.1:${await freePort()}`);
    const lostTotal = () => first.rig.agent.observe.lostAlarms().total;
    fillCard(dataDir, 'filler.bin');
    await waitUntil(() => first.rig.agent.observe.storage().eventsNotStored > 50, 20_000, 'telemetry failing');
    await first.press(); // lets the reserve go
    const filler2 = fillCard(dataDir, 'filler-2.bin');
    const lost: GatewayEvent[] = [];
    for (let i = 0; i < 20 && lostTotal() === 0; i++) {
      const p = await first.press();
      await new Promise((r) => setTimeout(r, 300)); // its commit's outcome
      if (lostTotal() > 0) lost.push(p);
    }
    expect(lost, 'a press lost on the card without its reserve').toHaveLength(1);
    await waitUntil(() => first.rig.agent.observe.lostAlarms().sentFromMemory > 0, 5000, 'the report from memory');
    expect(first.rig.agent.observe.lostAlarms().notStored).toBeGreaterThan(0);

    rmSync(filler2);
    rmSync(join(dataDir, 'filler.bin'));
    await waitUntil(() => first.rig.agent.observe.backlog().diskReserve.held, 20_000, 'the reserve written back');
    await waitUntil(() => first.rig.agent.observe.lostAlarms().notStored === 0, 10_000, 'the report stored');
    await first.rig.agent.stop();

    await run(); // the county in reach again
    await county.waitFor(
      () =>
        [...county.events.values()].some(
          (e) =>
            e.type === 'gateway.events_lost' &&
            (e.data.seqs as [number, number][]).some(([a, b]) => lost[0]!.seq >= a && lost[0]!.seq <= b),
        ),
      20_000,
    );
  });
});
