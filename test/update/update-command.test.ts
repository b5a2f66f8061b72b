/**
 * The county's `update` command through the built CLI (a dev checkout: no running release's
 * manifest, so every file is fetched) with a real broker and a real HTTP server serving a
 * small hand-made bundle: a good one is staged into update/ready with its manifest and
 * signature; a file whose bytes are not its manifest's is refused with update.refused and
 * nothing staged; the refusals (no expiry, an alarm, the running version, a pending update,
 * a manifest of another version, a URL that is not there or redirects off its host, a config
 * push on probation) answer at once with their code.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { baseConfig, PushRig } from '../push/push-rig.js';
import { serveBundle } from './bundle-server.js';
import { bundle, FILES, listed } from './hand-bundle.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const RUNNING = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

const serve = (files: Map<string, Buffer>) => serveBundle(files, cleanup);

describe('the update command', () => {
  it('stages a good bundle into update/ready; a second one waits for it', { timeout: 40_000 }, async () => {
    const r = new PushRig('gw-update-good', tempDir(), brokerRef.current.url, cleanup);
    await r.start(baseConfig(r.gatewayId, r.dir, r.url));
    const server = await serve(bundle('9.9.9'));
    // What an agent stopped mid-fetch left: no fetch runs into it, so it neither blocks nor ships.
    mkdirSync(join(r.dir, 'data/update/staging'), { recursive: true });
    writeFileSync(join(r.dir, 'data/update/staging/left-over'), 'x');
    const reply = await r.command('update', { url: server.url, version: '9.9.9', by: 'tech' });
    expect(reply.error).toBeUndefined();
    expect(reply.result).toEqual({ accepted: true, version: '9.9.9', files: 2, bytes: 200_020, by: 'tech' });
    const ready = join(r.dir, 'data/update/ready');
    await waitUntil(() => existsSync(ready), 10_000, 'update/ready');
    expect(listed(ready)).toEqual(['dist/agent/new.js', 'lib/data.txt', 'manifest.json', 'manifest.sig']);
    expect(readFileSync(join(ready, 'lib/data.txt'))).toEqual(FILES['lib/data.txt']);
    expect(readFileSync(join(ready, 'manifest.json'))).toEqual(server.files.get('manifest.json'));
    expect(existsSync(join(r.dir, 'data/update/staging'))).toBe(false);
    expect(server.requests.sort()).toEqual(['dist/agent/new.js', 'lib/data.txt', 'manifest.json.gz', 'manifest.sig']);

    const again = await r.command('update', { url: server.url, version: '9.9.9' });
    expect(again.error?.code).toBe('UPDATE_PENDING');
    expect(server.requests).toHaveLength(4); // nothing fetched for it
    expect(r.events.some((e) => e.type === 'update.refused')).toBe(false);
  });

  it(
    'a file whose bytes are not its sha256 is refused: update.refused says which, nothing staged',
    { timeout: 40_000 },
    async () => {
      const r = new PushRig('gw-update-bad', tempDir(), brokerRef.current.url, cleanup);
      await r.start(baseConfig(r.gatewayId, r.dir, r.url));
      const server = await serve(bundle('9.9.9', { 'lib/data.txt': Buffer.alloc(200_000, 'w') }));
      const reply = await r.command('update', { url: server.url, version: '9.9.9' });
      expect(reply.result).toMatchObject({ accepted: true, files: 2 });
      const refused = await r.event('update.refused');
      expect(refused.data).toMatchObject({ from: RUNNING, to: '9.9.9', code: 'UPDATE_FILE_MISMATCH' });
      expect(refused.data.reason).toContain('lib/data.txt');
      expect(refused.data.reason).toContain('sha256');
      expect(readdirSync(join(r.dir, 'data/update'))).toEqual([]); // no staging, no ready
      // Not pending any more: the county can send it again (here: a bundle of another version).
      const wrong = await r.command('update', { url: server.url, version: '9.9.8' });
      expect(wrong.error?.code).toBe('UPDATE_INVALID');
      expect(wrong.error?.message).toContain('release 9.9.9, not 9.9.8');
    },
  );

  it(
    'refuses without an expiry, the running version, a missing bundle, a manifest that is not one, a push on probation',
    { timeout: 40_000 },
    async () => {
      const r = new PushRig('gw-update-refusals', tempDir(), brokerRef.current.url, cleanup);
      await r.start(baseConfig(r.gatewayId, r.dir, r.url));
      const server = await serve(bundle('9.9.9'));
      const noExpiry = await r.send(
        'update',
        JSON.stringify({ id: 'u1', args: { url: server.url, version: '9.9.9' } }), // neither expiresAt nor sentAt
        'u1',
      );
      expect(noExpiry.error?.code).toBe('NO_EXPIRY');
      const same = await r.command('update', { url: server.url, version: RUNNING });
      expect(same.error?.code).toBe('SAME_VERSION');
      const missing = await r.command('update', { url: `${server.url}nothing/`, version: '9.9.9' });
      expect(missing.error?.code).toBe('UPDATE_UNREACHABLE');
      expect(missing.error?.message).toContain('HTTP 404');
      server.files.set('manifest.json', Buffer.from('{"v":1,"version":"9.9.9"}'));
      server.files.delete('manifest.json.gz'); // a bundle of an older make-bundle: manifest.json is asked for instead
      const plain = () => server.requests.filter((p) => p === 'manifest.json').length;
      const plainBefore = plain();
      const notOne = await r.command('update', { url: server.url, version: '9.9.9' });
      expect(notOne.error?.code).toBe('UPDATE_INVALID');
      expect(plain()).toBe(plainBefore + 1);
      // Same server, another host name: a redirect off the county's host is not followed.
      server.redirects.set('elsewhere/manifest.json', server.url.replace('127.0.0.1', 'localhost') + 'manifest.json');
      const away = await r.command('update', { url: `${server.url}elsewhere/`, version: '9.9.9' });
      expect(away.error?.code).toBe('UPDATE_UNREACHABLE');
      expect(away.error?.message).toContain('redirected to another host (localhost:');
      const ftp = await r.command('update', { url: 'ftp://127.0.0.1/bundle/', version: '9.9.9' });
      expect(ftp.error?.code).toBe('INVALID_ARGS');
      expect(server.requests.filter((p) => !/manifest\.(json|json\.gz|sig)$/.test(p))).toEqual([]);
      expect(existsSync(join(r.dir, 'data/update/ready'))).toBe(false);

      // A config push on probation: one change judged at a time.
      const first = r.statuses.find((st) => st.state === 'online')!.configHash as string;
      const seen = r.statuses.length;
      const pushed = await r.command('config.apply', {
        config: { ...baseConfig(r.gatewayId, r.dir, r.url), health: { intervalSec: 1800 } },
        expectedHash: first,
        probationSec: 600,
      });
      expect(pushed.ok).toBe(true);
      await r.onlineWith(pushed.result!.configHash as string, 15_000, seen);
      const onProbation = await r.command('update', { url: server.url, version: '9.9.9' });
      expect(onProbation.error?.code).toBe('UPDATE_PENDING');
      expect(onProbation.error?.message).toContain('config push is on probation');
    },
  );

  it('is refused while an alert is active', { timeout: 40_000 }, async () => {
    const r = new PushRig('gw-update-alarm', tempDir(), brokerRef.current.url, cleanup);
    await r.start({
      ...baseConfig(r.gatewayId, r.dir, r.url),
      rules: [
        {
          id: 'meter-seen',
          when: { type: 'sensor.telemetry', devices: ['meter'] },
          actions: [{ do: 'alert', priority: 'high', message: 'meter reported' }],
        },
      ],
    });
    await r.event('alert.raised');
    const server = await serve(bundle('9.9.9'));
    const during = await r.command('update', { url: server.url, version: '9.9.9' });
    expect(during.error?.code).toBe('ALARM_ACTIVE');
    expect(server.requests).toEqual([]);
    rmSync(join(r.dir, 'data/update'), { recursive: true, force: true });
  });
});
