/** Modbus TCP against modbus-serial's own server playing our profiles. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.js';
import { requireProfile } from '../../config/load-profile.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { ModbusSimulator } from '../../scripts/simulators/modbus-simulator.js';
import { CLI } from '../helpers/agent-child.js';
import { testConfig, type TestConfigOver } from '../helpers/agent-config.js';
import type { DeviceInput } from '../helpers/config-input.js';
import { AgentRig, builtinProfile } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { startChecked } from '../helpers/delivery.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

async function simulator() {
  const sim = new ModbusSimulator();
  await sim.listenTcp(await freePort());
  cleanup(() => sim.close());
  return sim;
}

async function rig(sim: ModbusSimulator, devices: DeviceInput[], extra: TestConfigOver = {}) {
  const dir = tempDir();
  const config = testConfig(brokerRef.current.url, dir, {
    buses: [{ id: 'tcp1', type: 'modbus-tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 200 }],
    devices,
    ...extra,
  });
  const r = new AgentRig(config, dir);
  await startChecked(r.agent, brokerRef.current.url, cleanup);
  return r;
}

describe('Modbus TCP devices', () => {
  it('turns inputs into events: door state, panic buttons on registers and bitmaps', async () => {
    const sim = await simulator();
    const relayD = sim.addUnit(1, builtinProfile('waveshare-modbus-rtu-relay-d'));
    const r4 = sim.addUnit(2, builtinProfile('eletechsup-r4dif08'));
    const n32 = sim.addUnit(3, builtinProfile('eletechsup-n4dih32'));
    relayD.set('di1', true); // door closed: NC contact, active-low
    const r = await rig(sim, [
      {
        id: 'store-io',
        driver: 'modbus',
        bus: 'tcp1',
        unitId: 1,
        profile: 'waveshare-modbus-rtu-relay-d',
        pollMs: 50,
        inputs: { di1: { role: 'door', id: 'store-door', activeLevel: 'low', debounceMs: 0 } },
      },
      {
        id: 'homes',
        driver: 'modbus',
        bus: 'tcp1',
        unitId: 2,
        profile: 'eletechsup-r4dif08',
        pollMs: 50,
        inputs: { in3: { role: 'alarm-button', id: 'home-21-panic' } },
      },
      {
        id: 'big-di',
        driver: 'modbus',
        bus: 'tcp1',
        unitId: 3,
        profile: 'eletechsup-n4dih32',
        pollMs: 50,
        inputs: { x17: { role: 'alarm-button', id: 'school-panic' } },
      },
    ]);
    await r.waitFor((e) => e.deviceId === 'store-door' && e.type === 'door.closed', 5000, 'the initial door state');
    relayD.set('di1', false);
    const opened = await r.waitFor((e) => e.deviceId === 'store-door' && e.type === 'door.opened');
    expect(opened.priority).toBe('high');
    expect(opened.data).toMatchObject({ device: 'store-io', unitId: 1, input: 'di1', active: true });
    r4.set('in3', 1);
    const press = await r.waitFor((e) => e.deviceId === 'home-21-panic' && e.type === 'alarm.pressed');
    expect(press.priority).toBe('critical');
    n32.set('x17', true);
    await r.waitFor((e) => e.deviceId === 'school-panic' && e.type === 'alarm.pressed');
    expect(r.of('school-panic', 'alarm.pressed')).toHaveLength(1);
    // N4DIH32 was read with FC03 only (its simulator refuses FC02, as the board does).
    expect(r.of('big-di', 'device.offline')).toHaveLength(0);
  });

  it("drives outputs: coil on/off, the board's own flash, and gateway-timed pulses", async () => {
    const sim = await simulator();
    sim.addUnit(1, builtinProfile('waveshare-modbus-rtu-relay-d'));
    const io = sim.addUnit(4, builtinProfile('waveshare-modbus-rtu-io-8ch'));
    const r = await rig(sim, [
      {
        id: 'siren-board',
        driver: 'modbus',
        bus: 'tcp1',
        unitId: 1,
        profile: 'waveshare-modbus-rtu-relay-d',
        pollMs: 1000,
        inputs: { di1: { role: 'input' } },
      },
      {
        id: 'strobe-board',
        driver: 'modbus',
        bus: 'tcp1',
        unitId: 4,
        profile: 'waveshare-modbus-rtu-io-8ch',
        pollMs: 1000,
        inputs: { di1: { role: 'input' } },
      },
    ]);
    await r.agent.write({ deviceId: 'siren-board', output: 'relay3', action: 'on' });
    expect(sim.writes.at(-1)).toMatchObject({ unitId: 1, fc: 5, address: 2, value: true });
    await r.agent.write({ deviceId: 'siren-board', output: 'relay3', action: 'off' });
    expect(sim.writes.at(-1)).toMatchObject({ unitId: 1, fc: 5, address: 2, value: false });
    await r.agent.write({ deviceId: 'siren-board', output: 'relay1', action: 'pulse', durationMs: 700 });
    expect(sim.writes.at(-1)).toMatchObject({ unitId: 1, fc: 5, address: 0x0200 }); // one frame: the board times it
    const before = sim.writes.length;
    await r.agent.write({ deviceId: 'strobe-board', output: 'do2', action: 'pulse', durationMs: 150 });
    expect(io.coils.get(1)).toBe(true);
    await waitUntil(() => io.coils.get(1) === false, 2000, 'the gateway to end the pulse');
    const pulse = sim.writes.slice(before);
    expect(pulse.map((w) => w.value)).toEqual([true, false]);
    expect(pulse[1]!.atMs - pulse[0]!.atMs).toBeGreaterThanOrEqual(140);
    await expect(r.agent.write({ deviceId: 'strobe-board', output: 'relay9', action: 'on' })).rejects.toThrow(
      /no output "relay9"/,
    );
    await expect(r.agent.write({ deviceId: 'strobe-board', output: 'do1', action: 'pulse' })).rejects.toThrow(
      /durationMs/,
    );
  });

  it('reports a unit that stops answering as offline, and online when it is back', async () => {
    const sim = await simulator();
    const unit = sim.addUnit(2, builtinProfile('eletechsup-r4dif08'));
    const r = await rig(sim, [
      {
        id: 'homes',
        driver: 'modbus',
        bus: 'tcp1',
        unitId: 2,
        profile: 'eletechsup-r4dif08',
        pollMs: 50,
        offlineAfter: 2,
        inputs: { in1: { role: 'alarm-button' } },
      },
    ]);
    await waitUntil(() => unit.pollTimes.length > 2, 3000, 'polls');
    unit.dead = true;
    const offline = await r.waitFor((e) => e.type === 'device.offline', 5000, 'device.offline');
    expect(offline).toMatchObject({ deviceId: 'homes', priority: 'high', data: { unitId: 2, code: 'TIMEOUT' } });
    unit.dead = false;
    await r.waitFor((e) => e.type === 'device.online', 5000, 'device.online');
    unit.set('in1', 1);
    await r.waitFor((e) => e.type === 'alarm.pressed', 3000, 'events after coming back');
    expect(r.agent.drivers[0]!.describe()).toMatchObject({ online: true, driver: 'modbus' });
  });

  it('polls a board used only for its outputs, so a silent one is offline, not online unasked', async () => {
    const sim = await simulator();
    const unit = sim.addUnit(1, builtinProfile('waveshare-modbus-rtu-relay-d'));
    unit.dead = true;
    const r = await rig(sim, [
      {
        id: 'siren-board',
        driver: 'modbus',
        bus: 'tcp1',
        unitId: 1,
        profile: 'waveshare-modbus-rtu-relay-d',
        pollMs: 50,
        offlineAfter: 2,
        inputs: {},
      },
    ]);
    const offline = await r.waitFor((e) => e.type === 'device.offline', 5000, 'device.offline');
    expect(offline).toMatchObject({ deviceId: 'siren-board', data: { unitId: 1, code: 'TIMEOUT' } });
    expect(r.agent.drivers[0]!.describe()).toMatchObject({ online: false });
    unit.dead = false;
    await r.waitFor((e) => e.type === 'device.online', 5000, 'device.online');
    expect(r.agent.drivers[0]!.describe()).toMatchObject({ online: true });
  });

  it('runs a new brand from a profile file alone (no code)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'profiles'));
    writeFileSync(
      join(dir, 'profiles', 'acme-door-box.yaml'),
      stringify({
        version: 1,
        id: 'acme-door-box',
        vendor: 'ACME',
        model: 'Door box with a 32-bit counter',
        source: ['made up for this test'],
        transport: 'modbus',
        defaults: { unitId: 9 },
        inputs: {
          contact: { table: 'input', address: 10, bit: 3 },
          opens: { table: 'input', address: 20, type: 'uint32', wordOrder: 'little' },
        },
        outputs: { buzzer: { write: { table: 'holding', address: 5, on: 1, off: 0 } } },
      }),
    );
    const sim = await simulator();
    const box = sim.addUnit(9, requireProfile('acme-door-box', 'modbus', dir));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      stringify({
        version: 1,
        gateway: { id: 'gw-acme' },
        dataDir: join(dir, 'data'),
        mqtt: { url: brokerRef.current.url, protocolVersion: 4 },
        buses: [{ id: 'tcp1', type: 'modbus-tcp', host: '127.0.0.1', port: sim.port }],
        devices: [
          {
            id: 'back-door',
            driver: 'modbus',
            bus: 'tcp1',
            unitId: 9,
            profile: 'acme-door-box',
            pollMs: 50,
            inputs: { contact: { role: 'door', debounceMs: 0 } },
            outputs: { buzzer: {} },
          },
        ],
      }),
    );
    const loaded = loadConfig(file);
    const r = new AgentRig(loaded.config, dir);
    const check = await startChecked(r.agent, brokerRef.current.url, cleanup);
    await r.waitFor((e) => e.deviceId === 'back-door.contact' && e.type === 'door.closed');
    box.set('contact', true);
    await r.waitFor((e) => e.deviceId === 'back-door.contact' && e.type === 'door.opened');
    await r.agent.write({ deviceId: 'back-door', output: 'buzzer', action: 'on' });
    expect(sim.writes.at(-1)).toMatchObject({ unitId: 9, fc: 6, address: 5, value: 1 });
    await check.expectAllDelivered();
    await r.agent.stop(); // writes its last device snapshot
    const devices = spawnSync(process.execPath, [CLI, 'devices', '--wide', '--config', file], { encoding: 'utf8' });
    expect(devices.status).toBe(0);
    // The agent is stopped: its last snapshot says how the device was reached, not that it is online now.
    expect(devices.stdout).toMatch(/^back-door\s+modbus\s+modbus-tcp 127\.0\.0\.1:\d+ unit 9\s+\?\s+\d+ s ago\s+0$/m);
    expect(devices.stdout).toMatch(/bus tcp1: modbus-tcp 127\.0\.0\.1:\d+, up, \d+ requests, 0 timeouts/);
  });

  it('refuses a bad profile with its path, and will not start with it', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'profiles'));
    writeFileSync(
      join(dir, 'profiles', 'broken.yaml'),
      stringify({
        version: 1,
        id: 'broken',
        vendor: 'X',
        model: 'Y',
        source: [],
        transport: 'modbus',
        defaults: { unitId: 1 },
        inputs: { a: { table: 'registers', address: 70000 } },
      }),
    );
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      stringify({
        version: 1,
        gateway: { id: 'gw' },
        dataDir: join(dir, 'data'),
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        buses: [{ id: 'tcp1', type: 'modbus-tcp', host: '127.0.0.1' }],
        devices: [
          { id: 'a', driver: 'modbus', bus: 'tcp1', unitId: 1, profile: 'broken' },
          {
            id: 'b',
            driver: 'modbus',
            bus: 'tcp1',
            unitId: 2,
            profile: 'waveshare-modbus-rtu-io-8ch',
            inputs: { di9: { role: 'door' } },
          },
          { id: 'c', driver: 'modbus', bus: 'tcp1', unitId: 3, profile: 'no-such-profile' },
        ],
      }),
    );
    for (const args of [
      ['check-config', file],
      ['run', '--config', file],
    ]) {
      const res = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
      expect(res.status).toBe(2);
      expect(res.stderr).toMatch(/devices\[0\]\.profile: .*broken\.yaml: source: /);
      expect(res.stderr).toMatch(
        /devices\[0\]\.profile: .*broken\.yaml: inputs\.a\.table: must be one of "coil", "discrete", "holding", "input"/,
      );
      expect(res.stderr).toMatch(
        /devices\[0\]\.profile: .*broken\.yaml: inputs\.a\.address: must be 0\.\.65535 \(got 70000\)/,
      );
      expect(res.stderr).toContain('devices[1].inputs.di9: unknown input for profile waveshare-modbus-rtu-io-8ch');
      expect(res.stderr).toMatch(/devices\[2\]\.profile: profile "no-such-profile" not found/);
    }
  });
});
