/**
 * `villages apply-update` against a real Mosquitto, three real agents (the built CLI, a dev
 * checkout) and a real HTTP server: a bundle the canary cannot fetch is refused at once and
 * the tool stops there, the others never sent anything; a bundle with a file that is not its
 * manifest's is accepted, then refused by the canary's own update.refused, and the tool
 * stops there too; a release every gateway runs already is `unchanged` on all (a stopped run
 * can be started again). Success through the apply step is test/release/update-command.test.ts
 * (it needs root and an installed release).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UpdateResult } from '../../scripts/county/villages-update.js';
import { defaultVerdictMs } from '../../scripts/county/villages-update.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { serveBundle } from '../update/bundle-server.js';
import { bundle } from '../update/hand-bundle.js';
import { startUpdateServer } from '../update/update-server-rig.js';
import { village as villageOf } from './villages-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const RUNNING = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const FILES = { 'dist/agent/new.js': Buffer.from('export const x = 2;\n'), 'lib/data.txt': Buffer.alloc(50_000, 'v') };

const village = (tag: string) => villageOf({ url: brokerRef.current.url, tempDir, cleanup }, tag);

const serve = (files: Map<string, Buffer>) => serveBundle(files, cleanup);

const updatesSent = (commanded: string[]) => commanded.filter((c) => c.endsWith(' update')).map((c) => c.split(' ')[0]);

describe('villages apply-update', () => {
  it('stops at a canary that refuses, or that refuses later; the others get nothing', { timeout: 90_000 }, async () => {
    const v = await village('upd');
    const [canary, second, third] = v.ids as [string, string, string];
    const server = await serve(bundle('9.9.9', { 'lib/data.txt': Buffer.alloc(50_000, 'w') }, FILES));

    // Refused at once: the bundle is not where the URL says.
    const away = await v.run('apply-update', '--bundle-url', `${server.url}nothing/`, '--version', '9.9.9');
    expect(away.code).toBe(1);
    expect(away.out).toMatch(
      new RegExp(`^wave 1  ${canary}  refused: update UPDATE_UNREACHABLE: .*manifest\\.json: HTTP 404$`, 'm'),
    );
    expect(away.out).toContain(`wave 2  ${second}  not_reached`);
    expect(away.out).toContain(`wave 3  ${third}  not_reached`);
    expect(away.out).toMatch(new RegExp(`stopped at ${canary} \\(refused\\); later gateways untouched$`));
    expect(updatesSent(v.commanded)).toEqual([canary]);

    // Accepted, then refused by the gateway itself: lib/data.txt is not its manifest's bytes.
    const bad = await v.run('apply-update', '--bundle-url', server.url, '--version', '9.9.9', '--by', 'test', '--json');
    expect(bad.code).toBe(1);
    const res = JSON.parse(bad.out) as { ok: boolean; gateways: UpdateResult[] };
    expect(res.ok).toBe(false);
    expect(res.gateways.map((r) => [r.gatewayId, r.wave, r.outcome])).toEqual([
      [canary, 1, 'refused'],
      [second, 2, 'not_reached'],
      [third, 3, 'not_reached'],
    ]);
    expect(res.gateways[0]).toMatchObject({ from: RUNNING, to: '9.9.9', files: 2, bytes: 50_020 });
    expect(res.gateways[0]!.detail).toMatch(/^UPDATE_FILE_MISMATCH: .*lib\/data\.txt.*sha256/);
    expect(res.gateways[0]!.ms).toBeGreaterThan(0);
    expect(updatesSent(v.commanded)).toEqual([canary, canary]);
    const refused = v.events.filter((e) => e.type === 'update.refused');
    expect(refused.map((e) => e.gatewayId)).toEqual([canary]);

    // What every gateway runs already: nothing to do anywhere, and no stop.
    const same = await v.run('apply-update', '--bundle-url', server.url, '--version', RUNNING);
    expect(same.code).toBe(0);
    for (const id of v.ids) expect(same.out).toContain(`${id}  unchanged (runs ${RUNNING})`);
    expect(same.out).toMatch(/every gateway applied$/);
    expect(updatesSent(v.commanded)).toEqual([canary, canary, ...v.ids]);
    // The gateways only ever asked for the manifest and its signature, and the canary for the files once.
    expect(server.requests.filter((p) => !/manifest\.(json|json\.gz|sig)$/.test(p)).sort()).toEqual([
      'dist/agent/new.js',
      'lib/data.txt',
    ]);
  });

  it(
    '--mqtt: the gateways pull the release from the update server; a canary that refuses it stops the run',
    { timeout: 90_000 },
    async () => {
      const v = await village('upd-mqtt');
      const [canary, second, third] = v.ids as [string, string, string];
      const files = bundle('9.9.8', { 'lib/data.txt': Buffer.alloc(50_000, 'w') }, FILES);
      const { asked } = await startUpdateServer(brokerRef.current.url, files, tempDir(), cleanup);
      const bad = await v.run('apply-update', '--mqtt', '--version', '9.9.8', '--json');
      expect(bad.code).toBe(1);
      const res = JSON.parse(bad.out) as { ok: boolean; gateways: UpdateResult[] };
      expect(res.gateways.map((r) => [r.gatewayId, r.wave, r.outcome])).toEqual([
        [canary, 1, 'refused'],
        [second, 2, 'not_reached'],
        [third, 3, 'not_reached'],
      ]);
      expect(res.gateways[0]).toMatchObject({ from: RUNNING, to: '9.9.8', files: 2, bytes: 50_020 });
      expect(res.gateways[0]!.detail).toMatch(/^UPDATE_FILE_MISMATCH: .*lib\/data\.txt/);
      expect(updatesSent(v.commanded)).toEqual([canary]);
      // Over the broker, from the update server: the gzipped manifest, its signature, then the files.
      expect(asked.slice(0, 2)).toEqual(['manifest.json.gz@0', 'manifest.sig@0']);
      expect(asked.some((a) => a.startsWith('lib/data.txt@'))).toBe(true);
    },
  );

  it('waits by default for the apply probation, the apply step and the fetch at gprs speed', () => {
    expect(defaultVerdictMs(0)).toBe((180 + 300) * 1000);
    expect(defaultVerdictMs(1_650_000, 60)).toBe((60 + 300 + 413) * 1000);
  });
});
