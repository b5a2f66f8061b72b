/**
 * UPDATE_NO_ROOM, as root on a real small file system (a 16 MiB tmpfs as the agent's data
 * folder, the outbox's 1 MiB disk reserve held on it), through the built CLI with a real broker,
 * a real HTTP server and a panic button on a Modbus simulator: a bundle whose files would fit on
 * the card but leave less than the reserve is refused at once with UPDATE_NO_ROOM, nothing is
 * fetched or staged; a small one on the same card is accepted (it is the room, not the bundle);
 * a press afterwards still reaches the county. Off root, the test says so and fails.
 */
import { existsSync, readdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBoard } from '../helpers/field-peers.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { mountSmallCard } from '../helpers/small-card.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { ioBoard, tcpBus } from '../helpers/village-config.js';
import { waitUntil } from '../helpers/wait.js';
import { baseConfig, PushRig } from '../push/push-rig.js';
import { serveBundle } from './bundle-server.js';
import { bundle } from './hand-bundle.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const RESERVE = 1024 * 1024; // under the 10 % cap of a 16 MiB card: held whole

const freeBytes = (dir: string) => {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
};

const serve = (files: Map<string, Buffer>) => serveBundle(files, cleanup);

describe(`an update with no room (${process.getuid?.() === 0 ? 'a 16 MiB tmpfs' : 'needs root for a tmpfs'})`, () => {
  it('is refused with UPDATE_NO_ROOM before anything is fetched; a press still reaches the county', async () => {
    expect(process.getuid?.(), 'this test mounts a tmpfs: run it as root (CI does)').toBe(0);
    const dir = tempDir();
    const card = mountSmallCard(dir, '16m', cleanup);
    const { sim, board } = await startBoard(cleanup);
    const r = new PushRig('gw-no-room', dir, brokerRef.current.url, cleanup);
    await r.start({
      ...baseConfig(r.gatewayId, dir, r.url),
      dataDir: card,
      outbox: { diskReserveBytes: RESERVE },
      buses: [tcpBus(sim.port)],
      devices: [ioBoard({ inputs: { di1: { role: 'alarm-button', id: 'house-1-panic' } } })],
    });
    expect(existsSync(join(card, 'reserve.bin')), 'the outbox holds its reserve on the card').toBe(true);

    // Fits on the card as it is, but would leave half the reserve: refused.
    const free = freeBytes(card);
    const big = await serve(bundle('9.9.9', {}, { 'lib/big.bin': Buffer.alloc(free - RESERVE / 2, 'b') }));
    const refused = await r.command('update', { url: big.url, version: '9.9.9', by: 'test' });
    expect(refused.error?.code).toBe('UPDATE_NO_ROOM');
    expect(refused.error?.message).toMatch(
      new RegExp(`needs \\d+ bytes and \\d+ are free: it would leave less than the alarms' reserve \\(${RESERVE}\\)`),
    );
    expect(big.requests.sort()).toEqual(['manifest.json.gz', 'manifest.sig']); // no file asked for
    expect(existsSync(join(card, 'update')) ? readdirSync(join(card, 'update')) : []).toEqual([]);
    expect(freeBytes(card)).toBeGreaterThan(free - RESERVE / 4); // nothing written to speak of

    // The same card takes a small update: the refusal was the room.
    const small = await serve(bundle('9.9.9', {}, { 'lib/small.bin': Buffer.alloc(100_000, 's') }));
    const accepted = await r.command('update', { url: small.url, version: '9.9.9' });
    expect(accepted.result).toMatchObject({ accepted: true, files: 1, bytes: 100_000 });
    await waitUntil(() => existsSync(join(card, 'update/ready/lib/small.bin')), 10_000, 'the small update staged');

    board.set('di1', true);
    const pressed = await r.event('alarm.pressed', 10_000);
    expect(pressed.deviceId).toBe('house-1-panic');
    expect(r.events.some((e) => e.type === 'update.refused')).toBe(false);
  }, 60_000);
});
