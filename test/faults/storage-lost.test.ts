/**
 * The data folder lost while the agent runs (deleted under it, or remounted read-only): a
 * critical local alarm, since nothing can be kept any more: the sirens' test pattern, an
 * SMS through the modem, and `gateway.storage_failed` at the county while the link is up.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { startBoard } from '../helpers/field-peers.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { startModem } from '../helpers/sms-village.js';
import { tcpBus, ioBoard, gsmModem } from '../helpers/village-config.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const SIREN_COIL = 6; // do7

async function village(dataDir: string) {
  const { sim } = await startBoard(cleanup);
  const { pty, sim: modem } = await startModem(cleanup);
  const county = await startCounty(brokerRef.current.url, cleanup);
  const config = testConfig(brokerRef.current.url, dataDir, {
    gateway: { id: 'gw-lost', name: 'Qingshan' },
    buses: [tcpBus(sim.port, 200)],
    devices: [ioBoard({ outputs: { do7: { id: 'siren' } } }), gsmModem(pty.b)],
    alarms: { smsTo: ['13800138000'], sirens: [{ device: 'io', output: 'do7', testMs: 500 }] },
  });
  const check = new DeliveryCheck(county);
  const rig = new AgentRig(config, dataDir);
  check.watch(rig.agent);
  await rig.agent.start();
  cleanup(() => rig.agent.stop());
  await waitUntil(() => rig.agent.drivers[1]!.describe().online, 5000, 'the modem');
  const sirens = () => sim.writes.filter((w) => w.address === SIREN_COIL && w.value === true).length;
  return { rig, modem, county, sirens, check };
}

describe('the data folder lost while running', () => {
  it('deleted under the agent: sirens, an SMS, and gateway.storage_failed at the county', async () => {
    const dataDir = join(tempDir(), 'data');
    const { rig, modem, county, sirens, check } = await village(dataDir);
    expect(sirens()).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
    await waitUntil(() => sirens() >= 1, 10_000, 'the siren test pattern');
    await waitUntil(() => modem.sent.length >= 1, 10_000, 'the SMS');
    expect(modem.sent[0]!.text).toMatch(
      /^Qingshan: data storage failed, events are not kept \(dataDir .* has vanished\)/,
    );
    await county.waitFor(() => [...county.events.values()].some((e) => e.type === 'gateway.storage_failed'), 10_000);
    expect(rig.agent.observe.storage().lost).toMatch(/vanished/);
    rig.agent.jobs.checkStorage(); // still lost: no second alarm within the repeat interval
    await new Promise((r) => setTimeout(r, 300)); // an absence (no second SMS) can only be shown by waiting
    expect(modem.sent).toHaveLength(1);
    await check.expectAllDelivered(); // while running, what it commits (into the unlinked file) still goes out
  });

  it(`turned read-only (${process.getuid?.() === 0 ? 'a tmpfs, as root' : 'needs root'}): the same alarm, and its end is reported`, async () => {
    expect(process.getuid?.(), 'this test mounts a tmpfs: run it as root (CI does)').toBe(0);
    const dataDir = join(tempDir(), 'card');
    mkdirSync(dataDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dataDir]);
    cleanup(() => execFileSync('umount', ['-l', dataDir]));
    const { rig, modem, county, sirens, check } = await village(dataDir);
    // The card's own remount to read-only is refused while the agent holds files open for
    // writing (EBUSY), so a read-only file system is laid over the folder instead: what the
    // agent then finds at its path is read-only (its open files live on underneath).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dataDir]);
    let overlaid = true;
    cleanup(() => overlaid && execFileSync('umount', ['-l', dataDir]));
    // The check the agent's timer runs every 5 s (the test above waits for the timer itself).
    rig.agent.jobs.checkStorage();
    await waitUntil(() => sirens() >= 1 && modem.sent.length >= 1, 10_000, 'the siren and the SMS');
    expect(rig.agent.observe.storage().lost).toMatch(/not writable \(EROFS\)/);
    execFileSync('umount', [dataDir]);
    overlaid = false;
    rig.agent.jobs.checkStorage(); // as the timer would
    await waitUntil(() => rig.agent.observe.storage().lost === null, 10_000, 'usable again');
    await county.waitFor(() => [...county.events.values()].some((e) => e.type === 'gateway.storage_restored'), 10_000);
    await check.expectAllDelivered();
  });
});
