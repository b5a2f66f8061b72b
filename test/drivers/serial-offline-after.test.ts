/** offlineAfterSec over a real pty pair (socat): a receiver that decodes nothing for that long is reported offline, once, and online at its next record. */
import { describe, expect, it } from 'vitest';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import { SerialDeviceSimulator } from '../../scripts/simulators/serial-device.js';
import { testConfig } from '../helpers/agent-config.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

describe('serial offlineAfterSec', () => {
  it('a silent receiver: device.offline (reason silent) after 1 s without a record, once; device.online before its next record', { timeout: 30_000 }, async () => {
    const pty = await new PtyPair('quiet').start();
    cleanup(() => pty.dispose());
    const device = await new SerialDeviceSimulator(pty.a).open();
    cleanup(() => device.close());
    const dir = tempDir();
    const config = testConfig('mqtt://127.0.0.1:1', dir, {
      devices: [{ id: 'rf-rx', driver: 'serial', path: pty.b, profile: 'rf433-uart-decoder-fd-df', offlineAfterSec: 1, sensors: { A1B2C: { id: 'storehouse-door', role: 'door' } } }] as never,
    });
    const rig = new AgentRig(config, dir);
    await rig.agent.start();
    cleanup(() => rig.agent.stop());
    const driver = rig.agent.drivers[0]!;
    await waitUntil(() => driver.describe().online, 5000, 'the port');

    await device.send(Buffer.from('FDA1B2CEDF', 'hex'));
    const opened = await rig.waitFor((e) => e.type === 'door.opened');
    const offline = await rig.waitFor((e) => e.deviceId === 'rf-rx' && e.type === 'device.offline', 5000, 'offline after the silence');
    expect(offline).toMatchObject({ priority: 'high', data: { path: pty.b, reason: 'silent', silentForSec: 1 } });
    expect(offline.monoMs - opened.monoMs).toBeGreaterThanOrEqual(1000);
    expect(driver.describe()).toMatchObject({ online: false, detail: { silent: true } });

    // Still silent a while longer: no second report (absence can only be shown by waiting).
    await new Promise((r) => setTimeout(r, 1300));
    expect(rig.of('rf-rx', 'device.offline')).toHaveLength(1);

    await device.send(Buffer.from('FDA1B2C7DF', 'hex'));
    const closed = await rig.waitFor((e) => e.type === 'door.closed', 5000, 'the next record');
    const online = rig.of('rf-rx', 'device.online');
    expect(online).toHaveLength(1);
    expect(online[0]).toMatchObject({ priority: 'high', data: { path: pty.b, reason: 'record' } });
    expect(online[0]!.seq).toBeLessThan(closed.seq); // the device is back before its event
    expect(driver.describe()).toMatchObject({ online: true });

    // A new silence is reported again.
    const second = await rig.waitFor((e) => e.deviceId === 'rf-rx' && e.type === 'device.offline' && e.seq > closed.seq, 5000, 'offline after the second silence');
    expect(second.monoMs - closed.monoMs).toBeGreaterThanOrEqual(1000);
    expect(rig.of('rf-rx', 'device.offline')).toHaveLength(2);
  });
});
