/**
 * `update {mqtt: true, version}` through the built CLI with a real broker and the county's real
 * update server (scripts/county/update-server.ts) serving a small hand-made bundle folder: the
 * gateway pulls the manifest, the signature and every file (a dev checkout has no running
 * manifest) in 16 KiB pieces and stages them into update/ready; a file on the server whose bytes
 * are not its manifest's is refused UPDATE_FILE_MISMATCH with nothing staged; with no server the
 * gateway asks again on silence and gives up UPDATE_UNREACHABLE, ignoring (and naming) garbage
 * and wrong-offset answers a stranger puts on its chunk topic; a release the server does not
 * have is refused with the server's code.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { encodeUpdateChunk } from '../../core/contracts/update-chunk.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { baseConfig, PushRig } from '../push/push-rig.js';
import { bundle, FILES, listed } from './hand-bundle.js';
import { startUpdateServer } from './update-server-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const updateServer = (files: Map<string, Buffer>) =>
  startUpdateServer(brokerRef.current.url, files, tempDir(), cleanup);

/** A gateway (the built CLI) with a county listening, online. */
async function gateway(id: string): Promise<PushRig> {
  const r = new PushRig(id, tempDir(), brokerRef.current.url, cleanup);
  await r.start(baseConfig(r.gatewayId, r.dir, r.url));
  return r;
}

describe('the update command over MQTT', () => {
  it(
    'pulls the bundle piece by piece from the update server and stages it into update/ready',
    { timeout: 40_000 },
    async () => {
      const r = await gateway('gw-mqtt-good');
      const files = bundle('9.9.9');
      const { asked } = await updateServer(files);
      const reply = await r.command('update', { mqtt: true, version: '9.9.9', by: 'tech' });
      expect(reply.error).toBeUndefined();
      expect(reply.result).toEqual({ accepted: true, version: '9.9.9', files: 2, bytes: 200_020, by: 'tech' });
      const ready = join(r.dir, 'data/update/ready');
      await waitUntil(() => existsSync(ready), 20_000, 'update/ready');
      expect(listed(ready)).toEqual(['dist/agent/new.js', 'lib/data.txt', 'manifest.json', 'manifest.sig']);
      expect(readFileSync(join(ready, 'lib/data.txt'))).toEqual(FILES['lib/data.txt']);
      expect(readFileSync(join(ready, 'manifest.json'))).toEqual(files.get('manifest.json'));
      expect(readFileSync(join(ready, 'manifest.sig'))).toEqual(files.get('manifest.sig'));
      // One request at a time, in order, each piece 16 KiB: 200,000 bytes are 13 of them.
      const pieces = Array.from({ length: 13 }, (_, i) => `lib/data.txt@${i * 16_384}`);
      expect(asked).toEqual(['manifest.json.gz@0', 'manifest.sig@0', 'dist/agent/new.js@0', ...pieces]);
      expect(r.events.some((e) => e.type === 'update.refused')).toBe(false);

      const again = await r.command('update', { mqtt: true, version: '9.9.9' });
      expect(again.error?.code).toBe('UPDATE_PENDING');
      // Exactly one source, and silenceSec only for it.
      for (const args of [
        { version: '9.9.8' },
        { mqtt: true, url: 'http://127.0.0.1/b/', version: '9.9.8' },
        { url: 'http://127.0.0.1/b/', silenceSec: 5, version: '9.9.8' },
        { mqtt: false, version: '9.9.8' },
      ]) {
        const bad = await r.command('update', args);
        expect(bad.error?.code, JSON.stringify(args)).toBe('INVALID_ARGS');
      }
    },
  );

  it(
    "a file whose bytes on the server are not its manifest's is refused: UPDATE_FILE_MISMATCH, nothing staged",
    { timeout: 40_000 },
    async () => {
      const r = await gateway('gw-mqtt-bad');
      const corrupt = Buffer.from(FILES['lib/data.txt']);
      corrupt[150_000] = 0x77; // one byte in the tenth piece
      await updateServer(bundle('9.9.9', { 'lib/data.txt': corrupt }));
      const reply = await r.command('update', { mqtt: true, version: '9.9.9' });
      expect(reply.result).toMatchObject({ accepted: true, files: 2 });
      const refused = await r.event('update.refused');
      expect(refused.data).toMatchObject({ to: '9.9.9', code: 'UPDATE_FILE_MISMATCH' });
      expect(refused.data.reason).toContain('lib/data.txt');
      expect(refused.data.reason).toContain('sha256');
      expect(readdirSync(join(r.dir, 'data/update'))).toEqual([]); // no staging, no ready
    },
  );

  it(
    'no server: asks again on silence and gives up UPDATE_UNREACHABLE, ignoring and naming hostile answers',
    { timeout: 40_000 },
    async () => {
      const r = await gateway('gw-mqtt-silent');
      const requests: string[] = [];
      const stranger = await mqtt.connectAsync(brokerRef.current.url, { clientId: 'stranger' });
      cleanup(() => stranger.endAsync(true));
      const chunkTopic = `village/${r.gatewayId}/update/chunk`;
      stranger.on('message', (_t, p) => {
        requests.push(p.toString());
        if (requests.length !== 1) return;
        // Answers to the first request that are not answers: garbage, a huge offset, another release.
        void stranger.publishAsync(chunkTopic, Buffer.from('not a header\nbytes'), { qos: 1 });
        void stranger.publishAsync(
          chunkTopic,
          encodeUpdateChunk({ v: 1, version: '9.9.9', path: 'manifest.json', o: 2 ** 30, size: 2 ** 30 }),
          { qos: 1 },
        );
        void stranger.publishAsync(
          chunkTopic,
          encodeUpdateChunk({ v: 1, version: '6.6.6', path: 'manifest.json', o: 0, size: 3 }, Buffer.from('{}\n')),
          { qos: 1 },
        );
      });
      await stranger.subscribeAsync(`village/${r.gatewayId}/update/request`, { qos: 1 });
      const started = Date.now();
      const reply = await r.command('update', { mqtt: true, version: '9.9.9', silenceSec: 1 });
      const tookMs = Date.now() - started;
      expect(reply.error?.code).toBe('UPDATE_UNREACHABLE');
      expect(reply.error?.message).toContain('manifest.json.gz @0: no answer in 4 tries of 1000 ms');
      expect(reply.error?.message).toContain('3 answers ignored');
      expect(tookMs).toBeGreaterThanOrEqual(4000);
      // The same request each time (the same offset), four times.
      expect(requests.map((q) => JSON.parse(q) as unknown)).toEqual(
        Array(4).fill({ v: 1, version: '9.9.9', path: 'manifest.json.gz', o: 0, len: 16_384 }),
      );
      expect(existsSync(join(r.dir, 'data/update/ready'))).toBe(false);
      // Not pending any more, and the agent still answers.
      const ping = await r.command('ping');
      expect(ping.ok).toBe(true);
    },
  );

  it('a release the server does not have is refused with its code', { timeout: 40_000 }, async () => {
    const r = await gateway('gw-mqtt-unknown');
    const { asked } = await updateServer(bundle('9.9.9'));
    const reply = await r.command('update', { mqtt: true, version: '9.9.7' });
    expect(reply.error?.code).toBe('UPDATE_UNREACHABLE');
    expect(reply.error?.message).toContain('UNKNOWN_VERSION');
    expect(asked).toEqual(['UNKNOWN_VERSION: release 9.9.7 is not served here (9.9.9)']);
  });
});
