/**
 * A power cut mid-upload: the agent CLI (a real process) is killed -9 while a picture's chunks
 * cross a slow link to a real Mosquitto, then started again. The picture arrives whole, its hash
 * verified, and the upload resumed from the last acknowledged chunk (the upload state file):
 * only what was on the wire, or acknowledged in the moment before its state reached the disk,
 * comes twice. Needs `npm run build`.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaStore } from '../../agent/media/media-store.js';
import { mediaSchema } from '../../config/schema/media.js';
import { systemClock } from '../../core/kernel/system-clock.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { AgentChild } from '../helpers/agent-child.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { arrivalsAt, chunkCopies, jpegOf, sha256 } from '../helpers/pictures.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('kill -9 mid-upload', () => {
  it('resumes after a restart and the picture arrives whole', { timeout: 120_000 }, async () => {
    const sub = await new CountySubscriber({ url: brokerRef.current.url, clientId: 'county-kill9-media' }).start();
    cleanup(() => sub.stop());
    const log = arrivalsAt(sub);
    const link = await new TcpProxy({ targetPort: Number(new URL(brokerRef.current.url).port) }).start();
    cleanup(() => link.stop());
    link.rateBytesPerSec = 8000;
    link.delayMs = 50;

    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const media = mediaSchema.parse({ minFreeBytes: 0, upload: { chunkBytes: 2048 } });
    // A picture stored before the agent runs: the folder is the store's index, so the agent finds it at open.
    const store = new MediaStore({
      dir: join(dataDir, 'media'),
      config: media,
      clock: systemClock('always'),
      reserveHeld: () => true,
    });
    const jpeg = jpegOf(60_000);
    const { id } = await store.put(jpeg, { cameraId: 'gate', alarm: true });
    const n = Math.ceil(jpeg.length / 2048);
    const configFile = AgentChild.writeConfig(dir, {
      version: 1,
      gateway: { id: 'gw-kill9-media' },
      dataDir,
      log: { level: 'warn' },
      clock: { synced: 'always' },
      mqtt: { url: link.url, protocolVersion: 4, reconnect: { minMs: 100, maxMs: 1000, jitter: 0.2 } },
      media: { minFreeBytes: 0, upload: { chunkBytes: 2048 } },
    });

    const first = new AgentChild(configFile).start();
    cleanup(() => first.kill('SIGKILL'));
    await waitUntil(
      () => chunkCopies(log, id).size >= 10,
      60_000,
      `ten chunks before the kill; output:\n${first.output}`,
    );
    const ending = await first.kill('SIGKILL');
    expect(ending.signal, `the agent ended before the kill; output:\n${first.output}`).toBe('SIGKILL');
    const before = chunkCopies(log, id).size;
    expect(before).toBeLessThan(n);

    link.rateBytesPerSec = 0;
    link.delayMs = 0;
    const second = new AgentChild(configFile).start();
    cleanup(() => second.kill('SIGTERM'));
    await waitUntil(
      () => sub.pictures.has(id),
      60_000,
      `the picture whole after the restart; output:\n${second.output}`,
    );
    expect(sha256(sub.pictures.get(id)!.bytes)).toBe(sha256(jpeg));
    const copies = chunkCopies(log, id);
    expect(copies.size).toBe(n);
    expect(Math.max(...copies.values()), 'no chunk came more than twice').toBeLessThanOrEqual(2);
    // Resumed, not restarted: chunk 0 came once, and only the last few before the kill came again.
    expect(copies.get(0)).toBe(1);
    const again = [...copies.values()].filter((c) => c > 1).length;
    expect(again, `chunks sent twice: ${again} of ${n} (${before} arrived before the kill)`).toBeLessThanOrEqual(3);
  });
});
