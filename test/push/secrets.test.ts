/** Where a config's secrets are: config.get redacts values and keeps refs; config.apply refuses values. */
import { describe, expect, it } from 'vitest';
import { inlineSecretPaths, redactSecrets } from '../../agent/push/secrets.js';

const config = {
  mqtt: { url: 'mqtts://county', password: { file: '/etc/vg/mqtt' }, tls: { keyPassphrase: 'pass-phrase' } },
  nodeRed: { credentialSecret: { env: 'NR_SECRET' }, users: [{ name: 'tech', password: 'editor-pw' }] },
  devices: [
    { id: 'gate', driver: 'camera', password: 'cam-pw' },
    { id: 'meter', driver: 'synthetic' },
  ],
};

describe('config secrets', () => {
  it('names every inline secret by path, and no ref', () => {
    expect(inlineSecretPaths(config).sort()).toEqual(
      ['devices[0].password', 'mqtt.tls.keyPassphrase', 'nodeRed.users[0].password'].sort(),
    );
    expect(inlineSecretPaths({ mqtt: { password: { env: 'X' } } })).toEqual([]);
    expect(inlineSecretPaths('not a config')).toEqual([]);
  });

  it('redacts values, keeps refs, and leaves the original alone', () => {
    const shown = redactSecrets(config);
    const text = JSON.stringify(shown);
    for (const secret of ['pass-phrase', 'editor-pw', 'cam-pw']) expect(text).not.toContain(secret);
    expect(shown.mqtt.password).toEqual({ file: '/etc/vg/mqtt' });
    expect(shown.nodeRed.credentialSecret).toEqual({ env: 'NR_SECRET' });
    expect(shown.devices[0]!.password).toBe('<redacted>');
    expect(config.devices[0]!.password).toBe('cam-pw');
  });
});
