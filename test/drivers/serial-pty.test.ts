/** Serial devices end to end over real pty pairs (socat): lines, frames with acks, unplug and replug. */
import { describe, expect, it } from 'vitest';
import { SerialDeviceSimulator } from '../../scripts/simulators/serial-device.js';
import { testConfig } from '../helpers/agent-config.js';
import type { DeviceOf } from '../helpers/config-input.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { startChecked } from '../helpers/delivery.js';
import { startSerialDevice } from '../helpers/field-peers.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

async function serialRig(profile: string, sensors: DeviceOf<'serial'>['sensors']) {
  const { pty, device } = await startSerialDevice(cleanup);
  const dir = tempDir();
  const config = testConfig(brokerRef.current.url, dir, {
    devices: [{ id: 'rf-rx', driver: 'serial', path: pty.b, profile, sensors }],
  });
  const rig = new AgentRig(config, dir);
  await startChecked(rig.agent, brokerRef.current.url, cleanup);
  return { pty, device, rig };
}

describe('serial devices over a pty pair', () => {
  it('decodes RFLink lines into door and alarm events', async () => {
    const { device, rig } = await serialRig('rflink-ev1527-line', {
      '295FD59': { id: 'gate', role: 'door' },
      AB12: { id: 'panic-3', role: 'alarm-button' },
    });
    await waitUntil(() => rig.agent.drivers[0]!.describe().online, 5000, 'the port');
    await device.send('20;01;EV1527;ID=295FD59;SWITCH=3;CMD=ON;\r\n');
    await device.send(
      Buffer.concat([Buffer.from('garbage '), Buffer.from([0xff, 0xfe]), Buffer.from(' not utf-8\r\n')]),
    );
    await device.send('20;02;EV1527;ID=AB12;SWITCH=1;CMD=ON;\r\n');
    const press = await rig.waitFor((e) => e.type === 'alarm.pressed');
    expect(press).toMatchObject({ deviceId: 'panic-3', priority: 'critical' });
    expect(rig.of('gate', 'door.opened')).toHaveLength(1);
    expect(rig.agent.drivers[0]!.describe()).toMatchObject({ online: true, errors: 1, detail: { invalidUtf8: 1 } });
  });

  it('acknowledges every Sonoff RF Bridge frame with AA A0 55', async () => {
    const { device, rig } = await serialRig('sonoff-rf-bridge', { D0035: { id: 'shed-pir', role: 'motion' } });
    await waitUntil(() => rig.agent.drivers[0]!.describe().online, 5000, 'the port');
    await device.send(Buffer.from('AAA424E001400384D0035855', 'hex'));
    await rig.waitFor((e) => e.deviceId === 'shed-pir');
    await waitUntil(() => device.received.length >= 3, 2000, 'the ack');
    expect(device.received.toString('hex')).toBe('aaa055');
  });

  it('comes back after an unplug: offline, reopened by path, online, events resume', { timeout: 45_000 }, async () => {
    const { pty, device, rig } = await serialRig('rf433-uart-decoder-fd-df', {
      A1B2C: { id: 'storehouse-door', role: 'door' },
    });
    await waitUntil(() => rig.agent.drivers[0]!.describe().online, 5000, 'the port');
    await device.send(Buffer.from('FDA1B2CEDF', 'hex'));
    await rig.waitFor((e) => e.type === 'door.opened');
    await device.close();
    await pty.stop(); // unplug the USB adapter
    // 15 s, not 5: in one full CI run of 2026-12-06 (2 cores, every suite at once) no offline came
    // within 5 s; alone, and beside other suites, it comes at once (root cause not found).
    await rig.waitFor((e) => e.deviceId === 'rf-rx' && e.type === 'device.offline', 15_000, 'offline');
    await pty.start(); // plug it back in: same path
    const again = await new SerialDeviceSimulator(pty.a).open();
    cleanup(() => again.close());
    await rig.waitFor((e) => e.deviceId === 'rf-rx' && e.type === 'device.online', 15_000, 'online');
    await again.send(Buffer.from('FDA1B2C7DF', 'hex'));
    await rig.waitFor((e) => e.type === 'door.closed', 5000, 'events after replug');
  });
});
