/**
 * The county's `update` command end to end, under the stand-in supervisor in a root installed
 * from a signed 1.0.0 bundle, with a real Mosquitto and a real HTTP server holding the 1.0.1
 * bundle: the agent fetches only the files 1.0.0's manifest lacks, stages them into
 * update/ready, the apply step verifies, switches and judges, and the county hears
 * update.applied from 1.0.1; then the county's villages tool sends 1.0.2 the same way and reports
 * it applied, a 1.0.3 that crashes at start rolled back (exit 1), and a 1.0.4 signed by another
 * key refused; last, from the release that runs, an update pulled over MQTT from the county's
 * update server holding a delta folder (only what the running manifest lacks asked for).
 * Needs root (install.sh chowns to the service user), as CI runs.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../core/contracts/release-manifest.js';
import { main as villagesMain } from '../../scripts/county/villages.js';
import { County } from '../helpers/county.js';
import { countyCommand } from '../helpers/county-command.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { serveBundle } from '../update/bundle-server.js';
import { startUpdateServer } from '../update/update-server-rig.js';
import {
  baseFile,
  currentVersion,
  packageJson,
  signedUpdate,
  Supervised,
  writeConfig,
  useRig,
  type Rig,
  type StageOptions,
} from './release-rig.js';

const cleanup = useCleanups();
const tempDir = useTempDirs();
const held = useRig({ needsMosquitto: true });

/** A code-only update of the base release to `version`, signed, on a real HTTP server that holds only its changed files. */
async function serveUpdate(rig: Rig, version: string, extra: Record<string, Buffer> = {}, o: StageOptions = {}) {
  const changes = {
    ...extra,
    'package.json': packageJson(rig, version),
    'dist/agent/update/fetch.js': Buffer.concat([
      baseFile(rig, 'dist/agent/update/fetch.js'),
      Buffer.from(`// ${version}\n`),
    ]),
  };
  const { bytes, sig } = signedUpdate(rig, version, changes, o);
  // Only these: a request for any other file of the release is a 404 and would fail the update.
  const served = new Map([
    ['manifest.json', bytes],
    ['manifest.json.gz', gzipSync(bytes)], // as make-bundle writes it: what the agent asks for
    ['manifest.sig', Buffer.from(sig)],
    ...Object.entries(changes),
  ]);
  const server = await serveBundle(served, cleanup);
  return { changes, bytes, server };
}

/** The installed release run by the stand-in supervisor (its apply step's probation), and a county that saw it online. */
async function startGateway(rig: Rig, brokerUrl: string, tag: string, probationSec: number) {
  writeConfig(rig, brokerUrl);
  const county = await County.start(brokerUrl, tag, false);
  cleanup(() => county.stop());
  const online: unknown[] = [];
  county.sub.on('status', (_t, b) => (b as { state?: string }).state === 'online' && online.push(b));
  const sup = new Supervised(rig, probationSec);
  cleanup(() => sup.stop());
  await waitUntil(() => online.length >= 1, 30_000, `${currentVersion(rig)} online:\n${sup.output}`);
  return { county, sup };
}

describe('the update command under the supervisor', () => {
  it('fetches only the changed files, and the county hears update.applied from the new release', async () => {
    const { rig, broker } = held;
    const { changes, bytes, server } = await serveUpdate(rig, '1.0.1');
    const { county, sup } = await startGateway(rig, broker.url, 'update-cmd', 30);
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

    const reply = await ask('u1');
    expect(reply.error).toBeUndefined();
    const size = Object.values(changes).reduce((n, b) => n + b.length, 0);
    expect(reply.result).toEqual({ accepted: true, version: '1.0.1', files: 2, bytes: size, by: 'county-test' });
    await waitUntil(() => county.received('update.applied').length === 1, 120_000, `update.applied:\n${sup.output}`);
    expect(county.received('update.applied')[0]!.data).toMatchObject({ from: '1.0.0', to: '1.0.1', probationSec: 30 });
    expect(currentVersion(rig)).toBe('1.0.1');
    // Its signed manifest installed with it: the next update's base (else it fetches every file).
    expect(readFileSync(join(rig.opt, 'current/manifest.json'))).toEqual(bytes);
    expect(county.received('update.refused')).toEqual([]);
    expect(server.requests.sort()).toEqual([
      'dist/agent/update/fetch.js',
      'manifest.json.gz',
      'manifest.sig',
      'package.json',
    ]);

    // 1.0.1 runs now: the same update again is the running release.
    const again = await ask('u2');
    expect(again.error?.code).toBe('SAME_VERSION');
  }, 300_000);

  // Longer than the test above's: with three release suites on 2 cores, 1.0.2's link once took more than 10 s.
  const PROBATION = 30;
  it('villages apply-update takes the gateway to the next release, and stops at one that rolls back', async () => {
    const { rig, broker } = held;
    const from = currentVersion(rig); // 1.0.1 after the test above; the files below are new to either
    const { server } = await serveUpdate(rig, '1.0.2');
    const { county } = await startGateway(rig, broker.url, 'update-villages', PROBATION);

    const villages = async (url: string, ...args: string[]) => {
      const lines: string[] = [];
      const code = await villagesMain(
        ['apply-update', '--bundle-url', url, '--gateways', 'gw-update', '--url', broker.url, ...args],
        (l) => lines.push(l),
      );
      return { code, out: lines.join('\n') };
    };
    const run = await villages(
      server.url,
      '--version',
      '1.0.2',
      '--probation',
      String(PROBATION),
      '--verdict-timeout',
      '200',
    );
    expect(run.out.split('\n'), run.out).toContain('wave 1  gw-update  applied'); // the progress line, as it came
    expect(run.out).toMatch(
      new RegExp(
        `^wave 1  gw-update  applied ${from.replaceAll('.', '\\.')} -> 1\\.0\\.2 \\(2 files, \\d+ bytes to fetch\\) in [\\d.]+ s$`,
        'm',
      ),
    );
    expect(run.out).toMatch(/every gateway applied$/);
    expect(run.code).toBe(0);
    expect(currentVersion(rig)).toBe('1.0.2');
    expect(county.received('update.applied').map((e) => e.data?.to)).toEqual(['1.0.2']);
    // Started again as it was: the gateway runs 1.0.2 now, nothing to do.
    const again = await villages(server.url, '--version', '1.0.2', '--json');
    expect(JSON.parse(again.out)).toMatchObject({ ok: true, gateways: [{ outcome: 'unchanged', to: '1.0.2' }] });
    expect(again.code).toBe(0);

    // A release that loads but dies as soon as it is asked to run: rolled back, and the run stops there.
    const cli = baseFile(rig, 'dist/agent/cli.js').toString().split('\n');
    cli.splice(1, 0, "if (process.argv.includes('run')) throw new Error('1.0.3 crashes at start');");
    const crashing = await serveUpdate(rig, '1.0.3', { 'dist/agent/cli.js': Buffer.from(cli.join('\n')) });
    const bad = await villages(crashing.server.url, '--version', '1.0.3', '--probation', String(PROBATION));
    expect(bad.out).toMatch(
      /^wave 1 {2}gw-update {2}rolled_back 1\.0\.2 -> 1\.0\.3 \(3 files, \d+ bytes to fetch\) in [\d.]+ s: PROBATION_FAILED: release 1\.0\.3 did not start/m,
    );
    expect(bad.out).toMatch(/stopped at gw-update \(rolled_back\); later gateways untouched$/);
    expect(bad.code).toBe(1);
    expect(currentVersion(rig)).toBe('1.0.2');

    // Signed with a key the gateway does not trust: the root step refuses it before it believes its version.
    const other = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const forged = await serveUpdate(rig, '1.0.4', {}, { signWith: other });
    const refused = await villages(forged.server.url, '--version', '1.0.4', '--verdict-timeout', '120');
    expect(refused.out).toMatch(
      /^wave 1 {2}gw-update {2}refused 1\.0\.2 -> 1\.0\.4 \(2 files, \d+ bytes to fetch\) in [\d.]+ s: BAD_SIGNATURE: /m,
    );
    expect(refused.code).toBe(1);
    expect(county.received('update.refused').map((e) => [e.data?.to, e.data?.code])).toEqual([['?', 'BAD_SIGNATURE']]);
    expect(currentVersion(rig)).toBe('1.0.2');
  }, 400_000);

  it('over MQTT from the update server: pulls only what the running release lacks, and it is applied', async () => {
    const { rig, broker } = held;
    const from = currentVersion(rig); // 1.0.2 after the tests above
    const mqttJs = Buffer.concat([baseFile(rig, 'dist/agent/update/mqtt-source.js'), Buffer.from('// 1.0.5\n')]);
    const changes = { 'package.json': packageJson(rig, '1.0.5'), 'dist/agent/update/mqtt-source.js': mqttJs };
    const { bytes, sig } = signedUpdate(rig, '1.0.5', changes);
    // What the running release's manifest lacks (1.0.5 is cut from the base release, 1.0.2 is not):
    // what a delta folder from the running release holds, and all the agent may ask for.
    const running = readFileSync(join(rig.opt, 'current/manifest.json'), 'utf8');
    const have = new Set(Object.values(manifestSchema.parse(JSON.parse(running)).files).map((f) => f.sha256));
    const lacking = Object.entries(manifestSchema.parse(JSON.parse(bytes.toString('utf8'))).files)
      .filter(([, f]) => !have.has(f.sha256))
      .map(([path]) => path);
    const fileOf = (path: string) => (changes as Record<string, Buffer>)[path] ?? baseFile(rig, path);
    const folder = new Map<string, Buffer>([
      ['manifest.json', bytes],
      ['manifest.json.gz', gzipSync(bytes)],
      ['manifest.sig', Buffer.from(sig)],
      ...lacking.map((path): [string, Buffer] => [path, fileOf(path)]),
    ]);
    const { asked } = await startUpdateServer(broker.url, folder, tempDir(), cleanup);
    const { county, sup } = await startGateway(rig, broker.url, 'update-mqtt', PROBATION);
    const reply = await countyCommand(
      county.sub,
      'gw-update',
      'update',
      { id: 'm1', args: { mqtt: true, version: '1.0.5', by: 'county-test' }, expiresAt: Date.now() + 120_000 },
      60_000,
    );
    expect(reply.error).toBeUndefined();
    const size = lacking.reduce((n, path) => n + fileOf(path).length, 0);
    expect(reply.result).toEqual({
      accepted: true,
      version: '1.0.5',
      files: lacking.length,
      bytes: size,
      by: 'county-test',
    });
    await waitUntil(() => county.received('update.applied').length === 1, 180_000, `update.applied:\n${sup.output}`);
    expect(county.received('update.applied')[0]!.data).toMatchObject({ from, to: '1.0.5' });
    expect(currentVersion(rig)).toBe('1.0.5');
    const paths = [...new Set(asked.map((a) => a.replace(/@\d+$/, '')))].sort();
    expect(paths).toEqual([...lacking, 'manifest.json.gz', 'manifest.sig'].sort());
    expect(lacking).toEqual(expect.arrayContaining(['dist/agent/update/mqtt-source.js', 'package.json']));
  }, 400_000);
});
