/** `county.keys`: an ed25519 public key as base64 SPKI, read by node:crypto when the config is checked; every problem by its path. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ConfigError, validateConfig } from '../../config/load-config.js';
import { publicKeyValue } from '../../scripts/county/signed-envelope.js';

const base = { version: 1, gateway: { id: 'gw-1' }, dataDir: '/tmp/x', mqtt: { url: 'mqtt://127.0.0.1:1883' } };

const problems = (county: unknown): string[] => {
  try {
    validateConfig({ ...base, county }, 'gateway.yaml');
    return [];
  } catch (err) {
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
};

const ed = () => publicKeyValue(generateKeyPairSync('ed25519').privateKey);

describe('county.keys', () => {
  it('takes ed25519 keys as base64 SPKI, and no keys at all', () => {
    const a = ed();
    expect(a).toMatch(/^MCowBQYDK2VwAyEA/);
    expect(problems({ keys: [{ id: 'county-2026', publicKey: a }] })).toEqual([]);
    expect(problems({ keys: [] })).toEqual([]);
    expect(validateConfig(base, 'gateway.yaml').county).toBeUndefined();
  });

  it('refuses what node:crypto cannot read, another kind of key, a PEM block and a second key of one id, by path', () => {
    const x25519 = publicKeyValue(generateKeyPairSync('x25519').privateKey);
    const pem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const a = ed();
    const got = problems({
      keys: [
        { id: 'a', publicKey: a },
        { id: 'b', publicKey: x25519 },
        { id: 'c', publicKey: 'AAAA' },
        { id: 'd', publicKey: pem },
        { id: 'a', publicKey: ed() },
        { id: 'bad id', publicKey: a },
      ],
    });
    expect(got).toEqual([
      'county.keys[1].publicKey: must be an ed25519 key (got x25519)',
      expect.stringMatching(/^county\.keys\[2\]\.publicKey: is not a public key node:crypto can read \(.+\)$/),
      'county.keys[3].publicKey: must be base64 (the DER SubjectPublicKeyInfo, the body of a PEM PUBLIC KEY block, on one line)',
      'county.keys[5].id: must be 1-64 letters, digits, ".", "_" or "-"',
      'county.keys[4].id: "a" is named twice',
    ]);
  });
});
