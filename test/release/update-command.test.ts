/**
 * The county's `update` command end to end, under the stand-in supervisor in a root installed
 * from a signed 1.0.0 bundle, with a real Mosquitto and a real HTTP server holding the 1.0.1
 * bundle: the agent fetches only the files 1.0.0's manifest lacks, stages them into
 * update/ready, the apply step verifies, switches and judges, and the county hears
 * update.applied from 1.0.1. Needs root (install.sh chowns to the service user), as CI runs.
 */
import { describe, expect, it } from 'vitest';
import { County } from '../helpers/county.js';
import { countyCommand } from '../helpers/county-command.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { BundleServer } from '../update/bundle-server.js';
import { baseFile, currentVersion, packageJson, signedUpdate, Supervised, writeConfig, useRig } from './release-rig.js';

const cleanup = useCleanups();
const held = useRig({ needsMosquitto: true });

describe('the update command under the supervisor', () => {
  it('fetches only the changed files, and the county hears update.applied from the new release', async () => {
    const { rig, broker } = held;
    const changes = {
      'package.json': packageJson(rig, '1.0.1'),
      'dist/agent/update/fetch.js': Buffer.concat([
        baseFile(rig, 'dist/agent/update/fetch.js'),
        Buffer.from('// 1.0.1\n'),
      ]),
    };
    const { bytes, sig } = signedUpdate(rig, '1.0.1', changes);
    // Only these: a request for any other file of the release is a 404 and would fail the update.
    const served = new Map<string, Buffer>([
      ['manifest.json', bytes],
      ['manifest.sig', Buffer.from(sig)],
      ...Object.entries(changes),
    ]);
    const server = await new BundleServer(served).start();
    cleanup(() => server.close());

    writeConfig(rig, broker.url);
    const county = await County.start(broker.url, 'update-cmd', false);
    cleanup(() => county.stop());
    const online: unknown[] = [];
    county.sub.on('status', (_t, b) => (b as { state?: string }).state === 'online' && online.push(b));
    const sup = new Supervised(rig, 10);
    cleanup(() => sup.stop());
    const ask = async (id: string) =>
      countyCommand(
        county.sub,
        'gw-update',
        'update',
        {
          id,
          args: { url: server.url, version: '1.0.1', by: 'county-test' },
          expiresAt: Date.now() + 60_000,
        },
        15_000,
      );
    await waitUntil(() => online.length >= 1, 30_000, `1.0.0 online:\n${sup.output}`);

    const reply = await ask('u1');
    expect(reply.error).toBeUndefined();
    const size = Object.values(changes).reduce((n, b) => n + b.length, 0);
    expect(reply.result).toEqual({ accepted: true, version: '1.0.1', files: 2, bytes: size, by: 'county-test' });
    await waitUntil(() => county.received('update.applied').length === 1, 120_000, `update.applied:\n${sup.output}`);
    expect(county.received('update.applied')[0]!.data).toMatchObject({ from: '1.0.0', to: '1.0.1', probationSec: 10 });
    expect(currentVersion(rig)).toBe('1.0.1');
    expect(county.received('update.refused')).toEqual([]);
    expect(server.requests.sort()).toEqual([
      'dist/agent/update/fetch.js',
      'manifest.json',
      'manifest.sig',
      'package.json',
    ]);

    // 1.0.1 runs now: the same update again is the running release.
    const again = await ask('u2');
    expect(again.error?.code).toBe('SAME_VERSION');
  }, 300_000);
});
