/** A camera is one device entry and a profile: its password is a secret reference, its profile a camera's. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../config/load-config.js';
import { profileSchema } from '../../config/schema/profile.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

function write(devices: unknown[], more: Record<string, unknown> = {}): string {
  const dir = tempDir();
  const file = join(dir, 'gateway.yaml');
  const config = {
    version: 1,
    gateway: { id: 'gw-1' },
    dataDir: join(dir, 'data'),
    mqtt: { url: 'mqtt://127.0.0.1:1883' },
    devices,
    ...more,
  };
  writeFileSync(file, stringify(config));
  return file;
}

const problems = (file: string) => {
  try {
    loadConfig(file);
    return [];
  } catch (err) {
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
};

const gate = { id: 'gate-cam', driver: 'camera', profile: 'hikvision-isapi', host: '192.168.1.64', user: 'admin' };

describe('camera config', () => {
  it('takes one entry with the password from a file, and the profile defaults', () => {
    const file = write([{ ...gate, password: { file: 'camera.pass' } }]);
    writeFileSync(join(file, '..', 'camera.pass'), 'secret\n');
    const loaded = loadConfig(file);
    expect(loaded.config.devices[0]).toMatchObject({ driver: 'camera', channels: [], authRetry: { minMs: 300000 } });
    expect(loaded.profiles.get('gate-cam')).toMatchObject({ transport: 'camera', protocol: 'hikvision-isapi' });
  });

  it('names an unreadable password and a profile that is not a camera, by path', () => {
    delete process.env.VG_NO_SUCH_CAMERA_SECRET;
    const file = write([
      { ...gate, password: { env: 'VG_NO_SUCH_CAMERA_SECRET' } },
      { ...gate, id: 'cam-2', profile: 'waveshare-modbus-rtu-relay-d', password: 'x' },
    ]);
    expect(problems(file)).toEqual(
      expect.arrayContaining([
        'devices[0].password: environment variable VG_NO_SUCH_CAMERA_SECRET is not set',
        'devices[1].profile: profile waveshare-modbus-rtu-relay-d is for modbus devices, not camera',
      ]),
    );
  });

  it('refuses a profile that makes a pulse stateful, or maps to a type a camera cannot send', () => {
    const head = {
      version: 1,
      id: 'x-cam',
      vendor: 'X',
      model: 'Y',
      source: ['s'],
      transport: 'camera',
      protocol: 'dahua-cgi',
    };
    const bad = profileSchema.safeParse({
      ...head,
      events: { A: { kind: 'state', type: 'camera.line_crossed' }, B: { kind: 'pulse', type: 'alarm.pressed' } },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['events.A.type', 'events.B.type']));
  });

  it("a rule's snapshot action names a camera device, and the media section has its defaults", () => {
    const rule = (camera: string) => ({
      id: 'r',
      when: { type: 'alarm.pressed' },
      actions: [{ do: 'snapshot', camera }],
    });
    const cams = [{ ...gate, password: 'x' }];
    const ok = loadConfig(write(cams, { rules: [rule('gate-cam')] })).config;
    expect(ok.rules[0]!.actions[0]).toEqual({ do: 'snapshot', camera: 'gate-cam', channel: 1 });
    expect(ok.media).toEqual({
      maxBytes: 64 * 1024 ** 2,
      maxAgeDays: 7,
      maxPictureBytes: 2 * 1024 ** 2,
      minFreeBytes: 32 * 1024 ** 2,
      upload: { mode: 'auto', chunkBytes: 4096, maxBytesPerDay: 20 * 1024 ** 2 },
    });
    expect(problems(write(cams, { rules: [rule('gate-cma')] }))).toEqual([
      'rules[0].actions[0].camera: no camera device is called "gate-cma": did you mean "gate-cam"? (cameras: gate-cam)',
    ]);
    expect(problems(write(cams, { media: { maxAgeDays: 0 } }))).toHaveLength(1);
  });
});
