/**
 * A technician fixes a config in one pass: check-config reports every problem at once (a typo
 * in one device does not hide a missing profile in another, nor a secret nobody can read),
 * each once (a broken profile used by two devices, and nothing that depends on it), with a
 * "did you mean" where a near name exists, and refuses an event id given twice.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/agent-child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

function check(text: string, profiles: Record<string, string> = {}) {
  const dir = tempDir();
  mkdirSync(join(dir, 'profiles'));
  for (const [id, body] of Object.entries(profiles)) writeFileSync(join(dir, 'profiles', `${id}.yaml`), body);
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  const r = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8' });
  const lines = r.stderr
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim());
  return { status: r.status, head: r.stderr.split('\n')[0]!, lines, dir };
}

const BROKEN = `
version: 1
gateway: { id: gw-1 }
dataDir: /tmp/never-used
mqtt:
  url: mqtt://127.0.0.1:1883
  keepAlive: 30
  password: { file: secrets/missing }
buses:
  - { id: rs485-main, type: modbus-rtu, path: /dev/ttyUSB0 }
devices:
  - id: storehouse-io
    driver: modbus
    bus: rs485-main
    unitId: 1
    profile: waveshare-modbus-rtu-relay-d
    pollMS: 100
  - id: homes-a
    driver: modbus
    bus: rs485-mian
    unitId: 2
    profile: eletechsup-r4dif08
    inputs:
      in1: { role: alarm-button, id: home-12-panic }
      in2: { role: alarm-button, id: home-12-panic }
  - { id: homes-b, driver: modbus, bus: rs485-main, unitId: 3, profile: eletechsup-r4dif09 }
  - { id: homes-c, driver: modbus, bus: rs485-main, unitId: 4, profile: eletechsup-r4dif09 }
  - id: rf
    driver: serial
    path: /dev/ttyUSB1
    profile: rf433-uart-decoder-fd-df
    sensors:
      A1B2C: { id: home-12-panic, role: alarm-button }
rules:
  - id: panic-siren
    when: { type: alarm.pressed }
    actions:
      - { do: output, device: storehouse-iox, output: relay1, action: on }
      - { do: output, device: storehouse-io, output: relay1, action: on }
      - { do: output, device: homes-b, output: relay1, action: on }
`;

describe('check-config, one pass', () => {
  it('reports schema, profile, rule, id and secret problems together, each once, with "did you mean"', () => {
    const r = check(BROKEN);
    expect(r.status).toBe(2);
    expect(r.lines).toEqual([
      'mqtt.keepAlive: unknown key (did you mean "keepaliveSec"?)',
      'devices[0].pollMS: unknown key (did you mean "pollMs"?)',
      'devices[1].bus: unknown bus "rs485-mian" (did you mean "rs485-main"?) (declared: rs485-main)',
      'devices[1].inputs.in2.id: "home-12-panic" is already the id of devices[1].inputs.in1: each device, input and sensor needs its own (it is the deviceId of its events) - rename this input',
      'devices[4].sensors.A1B2C.id: "home-12-panic" is already the id of devices[1].inputs.in1: each device, input and sensor needs its own (it is the deviceId of its events) - rename this sensor',
      expect.stringMatching(
        /^devices\[2\]\.profile: profile "eletechsup-r4dif09" not found \(did you mean "eletechsup-r4dif08"\?\) \(looked in .*\) \(also used by devices\[3\]\)$/,
      ),
      'rules[0].actions[0].device: unknown device "storehouse-iox" (did you mean "storehouse-io"?)',
      expect.stringMatching(/^mqtt\.password: cannot read secret file: ENOENT/),
    ]);
    expect(r.head).toMatch(/invalid \(8 problems\)/);
  });

  it("names near keys, inputs and outputs inside a profile and a device's bindings", () => {
    const r = check(
      `
version: 1
gateway: { id: gw-1 }
dataDir: /tmp/never-used
mqtt: { url: mqtt://127.0.0.1:1883 }
buses: [{ id: b, type: modbus-tcp, host: 127.0.0.1 }]
devices:
  - id: panel
    driver: modbus
    bus: b
    unitId: 1
    profile: my-panel
  - id: relays
    driver: modbus
    bus: b
    unitId: 2
    profile: waveshare-modbus-rtu-relay-d
    inputs: { di01: { role: door } }
    outputs: { relay9: {} }
`,
      {
        'my-panel': `id: my-panel
transport: modbus
vendor: Acme
model: P1
defaults: { unitId: 1, baudRate: 9600 }
inputs: { di1: { table: discrete, adress: 0 } }
`,
      },
    );
    expect(r.status).toBe(2);
    expect(r.lines).toContainEqual(
      expect.stringMatching(/inputs\.di1\.adress: unknown key \(did you mean "address"\?\)/),
    );
    expect(r.lines).toContainEqual(
      expect.stringMatching(/^devices\[1\]\.inputs\.di01: unknown input .*\(did you mean "di1"\?\)/),
    );
    expect(r.lines).toContainEqual(
      expect.stringMatching(/^devices\[1\]\.outputs\.relay9: unknown output .*\(did you mean "relay1"\?\)/),
    );
  });

  it('refuses a rule whose event type, device or tag is a near miss (it would never fire), and lets other names be', () => {
    const r = check(`
version: 1
gateway: { id: gw-1 }
dataDir: /tmp/never-used
mqtt: { url: mqtt://127.0.0.1:1883 }
devices:
  - { id: gate-door, driver: synthetic, tags: [storehouse] }
rules:
  - id: panic
    when: { type: [alarm.presed, door.opened], devices: [gate-dor], tags: [storehuse] }
    actions: [{ do: alert, message: help }]
  - id: long-open
    when: { type: door.opened, devices: [gate-door] }
    trigger: { kind: duration, forSec: 60, until: { type: door.closd } }
    actions: [{ do: alert, message: open }]
  - id: own-types
    when: { type: lora.uplink, devices: [meter-from-a-flow] }
    actions: [{ do: alert, message: flow }]
`);
    expect(r.status).toBe(2);
    expect(r.lines).toEqual([
      'rules[0].when.type[0]: no event type is called "alarm.presed": did you mean "alarm.pressed"? (this rule would never fire)',
      'rules[0].when.devices[0]: no device, input or sensor is called "gate-dor": did you mean "gate-door"? (this rule would never fire)',
      'rules[0].when.tags[0]: no device tag is called "storehuse": did you mean "storehouse"? (this rule would never fire)',
      'rules[1].trigger.until.type: no event type is called "door.closd": did you mean "door.closed"? (this rule would never fire)',
    ]);
  });

  it('run names the file it was given when that file and its last good copy both lack a secret', () => {
    const dir = tempDir();
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `version: 1\ngateway: { id: gw-1 }\ndataDir: ${join(dir, 'data')}\nmqtt: { url: 'mqtt://127.0.0.1:1', password: { file: secrets/gone } }\n`,
    );
    copyFileSync(file, `${file}.last-good`); // it ran once, when the secret was there
    const r = spawnSync(process.execPath, [CLI, 'run', '--config', file], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`${file}: invalid (2 problems)`);
    expect(lines[1]).toMatch(/^ {2}mqtt\.password: cannot read secret file: ENOENT/);
    expect(lines[2]).toBe(`  the last good config ${file}.last-good cannot run either:`);
  });
});
