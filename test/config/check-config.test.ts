import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_DATA_SCHEMAS, schemaFiles } from '../../config/json-schemas.js';
import { CLI } from '../helpers/agent-child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tempDir = useTempDirs();
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      VG_TEST_PASSWORD: 'from-the-environment',
      VG_SHORT_PASSWORD: 'short',
      // config/demo.yaml's editor secrets, which `npm run demo` generates at start.
      VILLAGE_DEMO_EDITOR_PASSWORD: 'demo-password',
      VILLAGE_DEMO_CREDENTIAL_SECRET: 'demo-secret',
    },
  });

const write = (text: string) => {
  const f = join(tempDir(), 'gateway.yaml');
  writeFileSync(f, text);
  return f;
};

describe('check-config', () => {
  it('accepts the shipped configs', () => {
    expect(cli('check-config', join(root, 'config/demo.yaml')).status).toBe(0);
    // The example names files that exist only on a real gateway: its schema must still pass.
    const r = cli('check-config', '--schema-only', join(root, 'config/gateway.example.yaml'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // A real village wants its SMS: the example has a number, a placeholder marked to change.
    const example = readFileSync(join(root, 'config/gateway.example.yaml'), 'utf8');
    expect(example).toMatch(/# CHANGE THIS: a placeholder.*\n(.*\n)?\s+smsTo: \[["']\+86\d+["']\]/);
  });

  it('prints every problem with its exact path and exits 2', () => {
    const f = write(`
version: 1
gateway: { id: "bad id!" }
dataDir: /tmp/x
mqtt:
  url: http://x
  pasword: secret
  inflightWindow: 0
  protocolVersion: 3
outbox: { maxBytes: "12 parsecs" }
buses:
  - { id: b1, type: modbus-rtu, path: /dev/ttyUSB0, baudRate: 1234 }
devices:
  - { id: d1, driver: synthetic }
  - { id: d1, driver: modbus, bus: b1, unitId: 5, profile: x }
  - { id: d3, driver: modbus, bus: b2, unitId: 0, profile: x }
  - { id: d4, driver: zigbee }
`);
    const r = cli('check-config', f);
    expect(r.status).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    expect(lines).toEqual(
      expect.arrayContaining([
        'gateway.id: must be 1-64 chars of letters, digits, _ . - (starting with a letter or digit)',
        'mqtt.url: must be a broker URL such as mqtts://county.example:8883',
        'mqtt.pasword: unknown key (did you mean "password"?)',
        'mqtt.inflightWindow: must be 1..1000 (got 0)',
        'mqtt.protocolVersion: must be one of 5, 4 (got 3)',
        'outbox.maxBytes: must be a byte size such as 268435456 or "256MiB" (got "12 parsecs")',
        'buses[0].baudRate: must be one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200 (got 1234)',
        'devices[2].unitId: must be 1..247, or 255 for boards that ship with it (got 0)',
        'devices[2].bus: unknown bus "b2" (declared: b1)',
        'devices[1].id: duplicate device id "d1" (also devices[0])',
        'devices[3].driver: must be one of "synthetic", "modbus", "serial", "modem", "camera" (got "zigbee")',
      ]),
    );
    // The profile is checked in the same pass, for the device that parsed (devices[2] did not).
    expect(lines.filter((l) => l.startsWith('devices[1].profile: profile "x" not found'))).toHaveLength(1);
    expect(lines).toHaveLength(12);
    expect(r.stderr.split('\n')[0]).toMatch(/invalid \(12 problems\)/);
  });

  it('reports syntax errors, missing files and missing secrets', () => {
    expect(cli('check-config', write('version: 1\ngateway: [\n')).status).toBe(2);
    const missing = cli('check-config', join(tempDir(), 'nope.yaml'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
    const f = write(`
version: 1
gateway: { id: gw }
dataDir: /tmp/x
mqtt:
  url: mqtt://h
  password: { env: VG_NOT_SET_ANYWHERE }
  tls: { ca: ./no-such-ca.pem }
`);
    const r = cli('check-config', f);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('mqtt.password: environment variable VG_NOT_SET_ANYWHERE is not set');
    expect(r.stderr).toMatch(/mqtt\.tls\.ca: cannot read \.\/no-such-ca\.pem: ENOENT/);
    expect(r.stderr).toContain('mqtt.url: tls is configured, so the URL must use mqtts://');
  });

  it('takes secrets from the environment or a file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    const f = join(dir, 'g.yaml');
    writeFileSync(
      f,
      'version: 1\ngateway: { id: gw }\ndataDir: /tmp/x\nmqtt: { url: "mqtt://h", password: { file: ./pw } }\n',
    );
    expect(cli('check-config', f).status).toBe(0);
    writeFileSync(
      f,
      'version: 1\ngateway: { id: gw }\ndataDir: /tmp/x\nmqtt: { url: "mqtt://h", password: { env: VG_TEST_PASSWORD } }\n',
    );
    expect(cli('check-config', f).status).toBe(0);
  });

  it('asks for at least one Node-RED editor user, on loopback too, and names the path', () => {
    const base = 'version: 1\ngateway: { id: gw }\ndataDir: /tmp/x\nmqtt: { url: "mqtt://h" }\n';
    const none = cli('check-config', write(`${base}nodeRed: { users: [], credentialSecret: s }\n`));
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/nodeRed\.users: at least one user: the editor always asks for a login/);
    const one = 'nodeRed: { users: [{ username: tech, password: { env: VG_TEST_PASSWORD } }], credentialSecret: s }\n';
    expect(cli('check-config', write(`${base}${one}`)).status).toBe(0);
  });

  it('refuses an editor password under 10 characters or over 72 bytes, written in the config or read from its secret, by its path', () => {
    const base = 'version: 1\ngateway: { id: gw }\ndataDir: /tmp/x\nmqtt: { url: "mqtt://h" }\n';
    const users = (pw: string) => `nodeRed: { users: [{ username: tech, password: ${pw} }], credentialSecret: s }\n`;
    for (const pw of ['""', 'x', '"123456789"']) {
      const r = cli('check-config', write(`${base}${users(pw)}`));
      expect(r.status, pw).toBe(2);
      expect(r.stderr).toMatch(/nodeRed\.users\[0\]\.password: at least 10 characters/);
    }
    const fromEnv = cli('check-config', write(`${base}${users('{ env: VG_SHORT_PASSWORD }')}`));
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toMatch(
      /nodeRed\.users\[0\]\.password: at least 10 characters \(environment variable VG_SHORT_PASSWORD has 5 characters\)/,
    );
    expect(fromEnv.stderr).not.toContain("'short'"); // the secret itself is never printed
    const dir = tempDir();
    writeFileSync(join(dir, 'pw'), 'abc\n');
    writeFileSync(join(dir, 'gateway.yaml'), `${base}${users('{ file: ./pw }')}`);
    const fromFile = cli('check-config', join(dir, 'gateway.yaml'));
    expect(fromFile.status).toBe(2);
    expect(fromFile.stderr).toMatch(
      /nodeRed\.users\[0\]\.password: at least 10 characters \(file \.\/pw has 3 characters\)/,
    );
    expect(cli('check-config', write(`${base}${users('"ten-chars!"')}`)).status).toBe(0);
    // bcrypt reads 72 bytes: a longer password would let in anyone who knows its first 72.
    const long = cli('check-config', write(`${base}${users(`"${'é'.repeat(37)}"`)}`));
    expect(long.status).toBe(2);
    expect(long.stderr).toMatch(/nodeRed\.users\[0\]\.password: at most 72 bytes \(bcrypt ignores the rest\), got 74/);
  });

  it('refuses to run with a bad config (exit 2, nothing started)', () => {
    const r = cli('run', '--config', write('version: 2\n'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('version: must be 1');
  });
});

describe('JSON Schemas under config/schemas/', () => {
  it('are up to date with the zod schemas (run `npm run schemas` when this fails)', () => {
    const files = schemaFiles();
    for (const [rel, text] of Object.entries(files)) {
      expect(readFileSync(join(root, rel), 'utf8'), rel).toBe(text);
    }
    // and none is left over from an event type the catalogue no longer has
    const onDisk = readdirSync(join(root, EVENT_DATA_SCHEMAS)).map((f) => `${EVENT_DATA_SCHEMAS}/${f}`);
    expect(onDisk.sort()).toEqual(
      Object.keys(files)
        .filter((rel) => rel.startsWith(`${EVENT_DATA_SCHEMAS}/`))
        .sort(),
    );
  });
});
