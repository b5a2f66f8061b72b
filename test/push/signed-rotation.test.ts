/**
 * Key rotation is a signed config push: key A signs a config.apply that adds key B; B's commands
 * then pass; B signs the push that removes A; A's commands are then UNKNOWN_KEY. A real agent
 * (the built CLI) and a real Mosquitto; the pushes go through their probation like any other.
 */
import { describe, expect, it } from 'vitest';
import { countyKey } from '../helpers/county-keys.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { baseConfig, PushRig } from './push-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('county key rotation', () => {
  it('A adds B by a signed push, B passes, B removes A, A is UNKNOWN_KEY', { timeout: 90_000 }, async () => {
    const a = countyKey('county-a');
    const b = countyKey('county-b');
    const r = new PushRig('gw-rotate', tempDir(), brokerRef.current.url, cleanup);
    const gw = r.gatewayId;
    const config = (keys: { id: string; publicKey: string }[]) => ({
      ...baseConfig(gw, r.dir, r.url),
      county: { keys },
    });
    const applied = () => r.events.filter((e) => e.type === 'config.applied');
    const first = await r.start(config([a.entry]));

    // B cannot command yet.
    const early = await r.send('ping', b.sign({ command: 'ping', gatewayId: gw, id: 'b0' }), 'b0');
    expect(early.error?.code).toBe('UNKNOWN_KEY');

    const seen = r.statuses.length;
    const add = await r.send(
      'config.apply',
      a.sign({
        command: 'config.apply',
        gatewayId: gw,
        id: 'add-b',
        args: { config: config([a.entry, b.entry]), expectedHash: first, by: 'rotation', probationSec: 2 },
      }),
      'add-b',
    );
    expect(add.ok).toBe(true);
    const second = add.result!.configHash as string;
    await r.onlineWith(second, 15_000, seen);
    await waitUntil(() => applied().length === 1, 20_000, 'config.applied for the push that adds B');
    expect(applied()[0]!.data).toMatchObject({ hash: second, by: 'rotation', keyId: 'county-a' });

    const byB = await r.send('ping', b.sign({ command: 'ping', gatewayId: gw, id: 'b1' }), 'b1');
    expect(byB).toMatchObject({ ok: true, result: { pong: true } });
    const byA = await r.send('ping', a.sign({ command: 'ping', gatewayId: gw, id: 'a1' }), 'a1');
    expect(byA.ok).toBe(true); // both while the rotation is under way

    const seen2 = r.statuses.length;
    const drop = await r.send(
      'config.apply',
      b.sign({
        command: 'config.apply',
        gatewayId: gw,
        id: 'drop-a',
        args: { config: config([b.entry]), expectedHash: second, by: 'rotation', probationSec: 2 },
      }),
      'drop-a',
    );
    expect(drop.ok).toBe(true);
    await r.onlineWith(drop.result!.configHash as string, 15_000, seen2);
    await waitUntil(() => applied().length === 2, 20_000, 'config.applied for the push that drops A');
    expect(applied()[1]!.data).toMatchObject({ keyId: 'county-b' });

    const old = await r.send('ping', a.sign({ command: 'ping', gatewayId: gw, id: 'a2' }), 'a2');
    expect(old.error?.code).toBe('UNKNOWN_KEY');
    expect((await r.send('ping', b.sign({ command: 'ping', gatewayId: gw, id: 'b2' }), 'b2')).ok).toBe(true);
  });
});
