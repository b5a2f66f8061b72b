/** Profiles come only from profiles/ beside the config or the built-in folder, by plain id. */
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, loadProfile } from '../../config/load-profile.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('profile lookup', () => {
  it.each([
    '../../../../etc/passwd',
    '/etc/passwd',
    'profiles/x.yaml',
    'x.yaml',
    'Waveshare',
    '',
    '-x',
    'a'.repeat(65),
  ])('refuses %j as an id', (ref) => {
    const r = loadProfile(ref, tempDir());
    expect(r).toEqual({
      ok: false,
      problems: [
        {
          path: '',
          message: expect.stringMatching(/^must be a profile id such as waveshare-modbus-rtu-relay-d .*\(got /),
        },
      ],
    });
  });

  it('prefers profiles/ beside the config, and follows a symlink that stays inside it', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'profiles'));
    copyFileSync(join(BUILTIN_PROFILES, 'eletechsup-r4dif08.yaml'), join(dir, 'profiles', 'eletechsup-r4dif08.yaml'));
    symlinkSync('eletechsup-r4dif08.yaml', join(dir, 'profiles', 'alias-box.yaml'));
    expect(loadProfile('eletechsup-r4dif08', dir)).toMatchObject({
      ok: true,
      file: join(dir, 'profiles', 'eletechsup-r4dif08.yaml'),
    });
    expect(loadProfile('alias-box', dir)).toMatchObject({ ok: true, profile: { id: 'eletechsup-r4dif08' } });
    expect(loadProfile('sonoff-rf-bridge', dir)).toMatchObject({
      ok: true,
      file: join(BUILTIN_PROFILES, 'sonoff-rf-bridge.yaml'),
    });
  });

  it('refuses a symlink in profiles/ that leads outside it, even to a valid profile', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'profiles'));
    copyFileSync(join(BUILTIN_PROFILES, 'eletechsup-r4dif08.yaml'), join(dir, 'elsewhere.yaml'));
    symlinkSync(join(dir, 'elsewhere.yaml'), join(dir, 'profiles', 'escape.yaml'));
    expect(loadProfile('escape', dir)).toEqual({
      ok: false,
      problems: [
        {
          path: '',
          message: expect.stringMatching(
            /profiles\/escape\.yaml: resolves to \S*\/elsewhere\.yaml, outside \S*\/profiles; refused \(profiles are read only from their folders\)$/,
          ),
        },
      ],
    });
  });
});
