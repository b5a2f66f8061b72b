/**
 * The county's `update` command end to end, under the stand-in supervisor in a root installed
 * from a signed 1.0.0 bundle, with a real Mosquitto: first from a real HTTP server holding the
 * 1.0.1 bundle, then (from 1.0.1) pulled over MQTT from the county's update server holding a
 * 1.0.2 delta folder. Each time the agent fetches only the files its running release's manifest
 * lacks, stages them into update/ready, the apply step verifies, switches and judges, and the
 * county hears update.applied from the new release. Needs root (install.sh chowns to the service
 * user), as CI runs. The second test goes on from the release the first installed.
 */
import { describe, expect, it } from 'vitest';
import { County } from '../helpers/county.js';
import { countyCommand } from '../helpers/county-command.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { BundleServer } from '../update/bundle-server.js';
import { startUpdateServer } from '../update/update-server-rig.js';
import { baseFile, currentVersion, packageJson, signedUpdate, Supervised, writeConfig, useRig } from './release-rig.js';

const cleanup = useCleanups();
const tempDir = useTempDirs();
const held = useRig({ needsMosquitto: true });

/** The signed manifest, its signature and the changed files: what a delta folder holds. */
function delta(version: string, changes: Record<string, Buffer>): Map<string, Buffer> {
  const { bytes, sig } = signedUpdate(held.rig, version, changes);
  return new Map<string, Buffer>([
    ['manifest.json', bytes],
    ['manifest.sig', Buffer.from(sig)],
    ...Object.entries(changes),
  ]);
}

/** Runs the installed release under the supervisor with a county, sends `update` with `args`, waits for update.applied. */
async function updateTo(version: string, from: string, args: Record<string, unknown>, bytes: number) {
  const { rig, broker } = held;
  writeConfig(rig, broker.url);
  const county = await County.start(broker.url, `update-cmd-${version}`, false);
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
      { id, args: { ...args, version, by: 'county-test' }, expiresAt: Date.now() + 60_000 },
      15_000,
    );
  await waitUntil(() => online.length >= 1, 30_000, `${from} online:\n${sup.output}`);

  const reply = await ask('u1');
  expect(reply.error).toBeUndefined();
  expect(reply.result).toEqual({ accepted: true, version, files: 2, bytes, by: 'county-test' });
  await waitUntil(() => county.received('update.applied').length === 1, 120_000, `update.applied:\n${sup.output}`);
  expect(county.received('update.applied')[0]!.data).toMatchObject({ from, to: version, probationSec: 10 });
  expect(currentVersion(rig)).toBe(version);
  expect(county.received('update.refused')).toEqual([]);

  // The new release runs now: the same update again is the running release.
  const again = await ask('u2');
  expect(again.error?.code).toBe('SAME_VERSION');
}

const size = (changes: Record<string, Buffer>) => Object.values(changes).reduce((n, b) => n + b.length, 0);

describe('the update command under the supervisor', () => {
  const fetchJs = () => Buffer.concat([baseFile(held.rig, 'dist/agent/update/fetch.js'), Buffer.from('// 1.0.1\n')]);

  it('over HTTP: fetches only the changed files, and the county hears update.applied from the new release', async () => {
    const changes = { 'package.json': packageJson(held.rig, '1.0.1'), 'dist/agent/update/fetch.js': fetchJs() };
    // Only these: a request for any other file of the release is a 404 and would fail the update.
    const server = await new BundleServer(delta('1.0.1', changes)).start();
    cleanup(() => server.close());
    await updateTo('1.0.1', '1.0.0', { url: server.url }, size(changes));
    expect(server.requests.sort()).toEqual([
      'dist/agent/update/fetch.js',
      'manifest.json',
      'manifest.sig',
      'package.json',
    ]);
  }, 300_000);

  it('over MQTT from the update server: pulls only what 1.0.1 lacks, and 1.0.2 is applied', async () => {
    expect(currentVersion(held.rig), 'the first test installs 1.0.1').toBe('1.0.1');
    const mqttJs = Buffer.concat([baseFile(held.rig, 'dist/agent/update/mqtt-source.js'), Buffer.from('// 1.0.2\n')]);
    // 1.0.1's fetch.js stays: it is in the running manifest, so it is not asked for (nor in the folder).
    const changes = { 'package.json': packageJson(held.rig, '1.0.2'), 'dist/agent/update/mqtt-source.js': mqttJs };
    const folder = delta('1.0.2', { ...changes, 'dist/agent/update/fetch.js': fetchJs() });
    folder.delete('dist/agent/update/fetch.js');
    const { asked } = await startUpdateServer(held.broker.url, folder, tempDir(), cleanup);
    await updateTo('1.0.2', '1.0.1', { mqtt: true }, size(changes));
    const paths = [...new Set(asked.map((a) => a.replace(/@\d+$/, '')))].sort();
    expect(paths).toEqual(['dist/agent/update/mqtt-source.js', 'manifest.json', 'manifest.sig', 'package.json']);
  }, 300_000);
});
