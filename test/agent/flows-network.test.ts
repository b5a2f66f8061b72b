/**
 * `village-gateway flows-unit`: the drop-in that keeps the flows' process off the device buses
 * (IPAddressDeny). The generator on its own (names resolved or refused, loopback left out, never
 * an empty assignment), then the real command on a config file, its drop-in beside a unit that
 * `systemd-analyze verify` reads with it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { busAddresses, denyDropIn, flowsUnitDropIn } from '../../agent/flows-network.js';
import { busSchema } from '../../config/schema/devices.js';
import { CLI } from '../helpers/agent-child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const tcp = (id: string, host: string) => ({ id, type: 'modbus-tcp' as const, host, port: 502, timeoutMs: 1000 });
const rtu = busSchema.parse({ id: 'rs485', type: 'modbus-rtu', path: '/dev/ttyUSB0' });
const denies = (text: string) => text.split('\n').filter((l) => l.startsWith('IPAddressDeny'));

describe('the drop-in for the flows unit', () => {
  it('denies every Modbus TCP bus address, resolving names, and no serial bus', async () => {
    const resolve = async (host: string) => (host === 'plc.lan' ? ['10.0.0.9', 'fd00::9'] : []);
    const text = await flowsUnitDropIn(
      { buses: [tcp('a', '10.0.0.5'), rtu, tcp('b', 'plc.lan'), tcp('c', '10.0.0.5')] },
      '/etc/village-gateway/gateway.yaml',
      resolve,
    );
    expect(denies(text)).toEqual(['IPAddressDeny=10.0.0.5', 'IPAddressDeny=10.0.0.9', 'IPAddressDeny=fd00::9']);
    expect(text).toContain('# bus b (plc.lan)');
    expect(text.split('\n')).toContain('[Service]');
  });

  it('refuses a host name that does not resolve, naming the bus', async () => {
    await expect(busAddresses({ buses: [tcp('field', 'no-such-plc.invalid')] })).rejects.toMatchObject({
      code: 'HOST_UNRESOLVED',
      message: expect.stringMatching(/bus "field": host "no-such-plc\.invalid" does not resolve/),
    });
  });

  it('leaves loopback out (the editor listens there) and says so; no bus, no deny line at all', async () => {
    const text = await flowsUnitDropIn({ buses: [tcp('sim', '127.0.0.1'), tcp('local', 'localhost')] }, 'c.yaml');
    expect(denies(text)).toEqual([]);
    expect(text).toMatch(/# bus sim: 127\.0\.0\.1 is loopback, not denied/);
    // An empty `IPAddressDeny=` would reset what the unit itself denies.
    expect(denyDropIn([], 'c.yaml')).not.toMatch(/^IPAddressDeny/m);
  });
});

describe('village-gateway flows-unit', () => {
  const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

  it('prints a drop-in that systemd reads with the flows unit, and exits 2 on a name that does not resolve', () => {
    const dir = tempDir();
    const config = (host: string) => {
      const file = join(dir, `gateway-${host}.yaml`);
      writeFileSync(
        file,
        stringify({
          version: 1,
          gateway: { id: 'gw-unit' },
          dataDir: join(dir, 'data'),
          mqtt: { url: 'mqtt://127.0.0.1:1883', password: 'x' },
          buses: [tcp('field', host)],
        }),
      );
      return file;
    };
    const run = (file: string) =>
      spawnSync(process.execPath, [CLI, 'flows-unit', '--config', file], { encoding: 'utf8' });
    const ok = run(config('192.168.7.20'));
    expect({ code: ok.status, err: ok.stderr }).toEqual({ code: 0, err: '' });
    expect(denies(ok.stdout)).toEqual(['IPAddressDeny=192.168.7.20']);

    const bad = run(config('no-such-plc.invalid'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/village-gateway: bus "field": host "no-such-plc\.invalid" does not resolve/);

    expect(SYSTEMD_ANALYZE, 'systemd-analyze (Debian package systemd)').toBeTruthy();
    const unit = join(dir, 'village-gateway-flows.service');
    writeFileSync(unit, '[Unit]\nDescription=flows\n[Service]\nExecStart=/bin/true\n');
    mkdirSync(`${unit}.d`);
    writeFileSync(join(`${unit}.d`, '10-deny-buses.conf'), ok.stdout);
    const v = spawnSync(SYSTEMD_ANALYZE!, ['verify', unit], { encoding: 'utf8' });
    // systemd warns on stderr (exit 0) about an assignment it ignores, such as a bad address.
    expect({ code: v.status, stderr: v.stderr }).toEqual({ code: 0, stderr: '' });
  });
});
