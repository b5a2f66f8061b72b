/**
 * Updates under the stand-in supervisor (scripts/release/supervisor.ts: what systemd does with
 * village-gateway.service and village-gateway-update.path/.service), in a root installed from
 * a signed 1.0.0 bundle, with a real Mosquitto as the county's broker:
 * - the shipped units pass `systemd-analyze verify` as install.sh renders them;
 * - a release that crashes at start is switched back after its probation, the old release runs
 *   again and tells the county update.rolled_back with the reason;
 * - 10,000 events queued while the county's broker is down survive an upgrade: the new release
 *   comes up, the broker comes back within its probation, the county receives every id and
 *   update.applied.
 * Needs root (install.sh chowns to the service user), as CI runs.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { County } from '../helpers/county.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import {
  baseFile,
  CHECKOUT,
  currentVersion,
  packageJson,
  readResult,
  run,
  stageUpdate,
  Supervised,
  writeConfig,
  useRig,
} from './release-rig.js';

const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) =>
  lstatSync(p, { throwIfNoEntry: false }),
);
const cleanup = useCleanups();
const held = useRig({ persistence: true, needsMosquitto: true }); // the county's session outlives a stop

/** waitUntil, with what the supervised agents said when it fails (read then, not at the call). */
async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  try {
    await waitUntil(cond, ms, 'it');
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${what()}`);
  }
}

const resultFile = () => join(held.rig.data, 'update-result.json');
const outcome = () => (existsSync(resultFile()) ? readResult(held.rig) : null);

describe('the update units', () => {
  it('pass systemd-analyze verify as install.sh installs them, and the path unit is enabled', () => {
    const { rig } = held;
    expect(SYSTEMD_ANALYZE, 'systemd-analyze (Debian package systemd)').toBeTruthy();
    const units = join(rig.root, 'etc/systemd/system');
    expect(lstatSync(join(units, 'paths.target.wants/village-gateway-update.path')).isSymbolicLink()).toBe(true);
    const deployed = readdirSync(join(CHECKOUT, 'deploy')).filter((f) => /\.(service|path)$/.test(f));
    expect(deployed).toEqual(expect.arrayContaining(['village-gateway-update.path', 'village-gateway-update.service']));
    for (const name of deployed) {
      // The installed copy (@NODE_DIR@ filled in), with the release path pointing into the test root
      // so that ExecStart's program exists; systemd is not PID 1 here.
      const copy = join(rig.scratch, name);
      writeFileSync(copy, readFileSync(join(units, name), 'utf8').replaceAll('/opt/village-gateway/', `${rig.opt}/`));
      const r = run(SYSTEMD_ANALYZE!, ['verify', copy]);
      expect({ name, code: r.code, out: r.out }).toEqual({ name, code: 0, out: '' });
    }
  });
});

describe('under the supervisor', () => {
  it('a release that crashes at start is rolled back, and the old one reports update.rolled_back', async () => {
    const { rig, broker } = held;
    writeConfig(rig, broker.url);
    const county = await County.start(broker.url, 'update-crash', false);
    cleanup(() => county.stop());
    const sup = new Supervised(rig, 15);
    cleanup(() => sup.stop());
    await waitFor(
      () => sup.stored.size >= 1,
      30_000,
      () => `1.0.0 running:\n${sup.output}`,
    );

    // Loads (install.sh's --version check passes) but dies as soon as it is asked to run.
    const cli = baseFile(rig, 'dist/agent/cli.js').toString().split('\n');
    cli.splice(1, 0, "if (process.argv.includes('run')) throw new Error('1.0.2 crashes at start');");
    stageUpdate(rig, '1.0.2', {
      'package.json': packageJson(rig, '1.0.2'),
      'dist/agent/cli.js': Buffer.from(cli.join('\n')),
    });

    await waitFor(
      () => outcome() !== null || county.received('update.rolled_back').length > 0,
      120_000,
      () => `a result:\n${sup.output}`,
    );
    expect(sup.output).toContain('1.0.2 crashes at start'); // it did run, and crashed
    expect(currentVersion(rig)).toBe('1.0.0');
    await waitFor(
      () => county.received('update.rolled_back').length === 1,
      30_000,
      () => `update.rolled_back:\n${sup.output}`,
    );
    expect(county.received('update.rolled_back')[0]!.data).toMatchObject({
      from: '1.0.0',
      to: '1.0.2',
      code: 'PROBATION_FAILED',
      reason: expect.stringMatching(/release 1\.0\.2 did not start \(no status from it within 15 s/) as string,
    });
    expect(existsSync(resultFile())).toBe(false); // reported, then forgotten
  }, 240_000);

  it('10,000 events queued with the broker down reach the county after an upgrade, none lost', async () => {
    const { rig, broker } = held;
    writeConfig(rig, broker.url);
    const county = await County.start(broker.url, 'update-backlog', false);
    cleanup(() => county.stop());
    await broker.stop(); // the county's session is saved with the broker's state
    const meter = {
      id: 'meter-1',
      driver: 'synthetic',
      rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: 2000 },
    };
    writeConfig(rig, broker.url, [meter]);
    const filling = new Supervised(rig, 60);
    cleanup(() => filling.stop());
    await waitFor(
      () => filling.stored.size >= 10_000,
      120_000,
      () => `10,000 events stored:\n${filling.output}`,
    );
    await filling.stop();

    writeConfig(rig, broker.url); // the meter goes: what waits is exactly what was stored above
    const sup = new Supervised(rig, 60);
    cleanup(() => sup.stop());
    await waitFor(
      () => sup.stored.size >= 1,
      30_000,
      () => `1.0.0 running again:\n${sup.output}`,
    );
    stageUpdate(rig, '1.0.3', { 'package.json': packageJson(rig, '1.0.3') });
    await waitFor(
      () => currentVersion(rig) === '1.0.3',
      90_000,
      () => `the switch to 1.0.3:\n${sup.output}`,
    );
    // Nothing of the backlog has reached the county yet: it waited in the outbox across the switch.
    expect(county.check.checker.events().filter((e) => filling.stored.has(e.id))).toEqual([]);
    await broker.start(); // within 1.0.3's probation window

    await waitFor(
      () => outcome() !== null || county.received('update.applied').length > 0,
      120_000,
      () => `a result:\n${sup.output}`,
    );
    for (const s of [filling, sup]) for (const [id, seq] of s.stored) county.check.checker.committed(id, seq);
    await waitUntil(() => county.check.checker.undelivered().length === 0, 120_000, 'every stored id at the county');
    const got = new Set(county.check.checker.events().map((e) => e.id));
    const missing = [...filling.stored.keys()].filter((id) => !got.has(id));
    expect(filling.stored.size).toBeGreaterThanOrEqual(10_000);
    expect(missing).toEqual([]);
    await waitFor(
      () => county.received('update.applied').length === 1,
      30_000,
      () => `update.applied:\n${sup.output}`,
    );
    expect(county.received('update.applied')[0]!.data).toMatchObject({ from: '1.0.0', to: '1.0.3', probationSec: 60 });
    expect(currentVersion(rig)).toBe('1.0.3');
  }, 480_000);
});
