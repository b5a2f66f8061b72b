/**
 * The signature gate and its nonce file on their own (the router, a faked clock, a real data
 * folder): what a restart with a wrong clock, a full store, a damaged file and an empty key list
 * do. End to end with a broker and a real agent: signed-commands.test.ts.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommandClock } from '../../agent/uplink/command-expiry.js';
import { CommandSignatures } from '../../agent/uplink/command-signature.js';
import { CommandRouter, type CommandContext, type Refusal } from '../../agent/uplink/commands.js';
import { NonceStore, nonceFile } from '../../agent/uplink/nonce-store.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { countyKey, type TestKey } from '../helpers/county-keys.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const NOW = Date.UTC(2026, 11, 6, 8, 0, 0);
const GW = 'gw-unit';

/** A router as the agent makes one (commandRouterFor), on a clock the test moves; ping records the context it ran with. */
function router(dataDir: string, keys: TestKey[], wall: { ms: number; synced: boolean }, max?: number) {
  const clock = new CommandClock({ now: () => wall.ms, monoMs: () => 0, synced: () => wall.synced });
  const nonces = new NonceStore(nonceFile(dataDir), quietLogger(), () => clock.now().ms, max);
  const r = new CommandRouter(topicsFor(`village/${GW}`), quietLogger(), clock, {
    signatures: new CommandSignatures({ keys: keys.map((k) => k.entry) }),
    nonces,
    gatewayId: GW,
  });
  const ran: CommandContext[] = [];
  r.register('ping', { args: z.strictObject({}), run: (_a, ctx) => void ran.push(ctx) });
  return { r, ran };
}

const send = (r: CommandRouter, payload: string) => r.execute('ping', Buffer.from(payload), false);

describe('the signature gate', () => {
  it('a restart whose clock came back wrong does not take a forgotten command for fresh', async () => {
    const dir = tempDir();
    const a = countyKey('a');
    const wall = { ms: NOW, synced: false };
    const first = router(dir, [a], wall);
    const old = a.sign({ command: 'ping', gatewayId: GW, id: 'old', sentAt: NOW, expiresAt: NOW + 60_000 });
    expect(await send(first.r, old)).toMatchObject({ ok: true });
    expect(first.ran).toEqual([{ id: 'old', keyId: 'a' }]);
    // Two minutes on, another command prunes the first one's nonce: it has expired.
    wall.ms = NOW + 120_000;
    const later = a.sign({ command: 'ping', gatewayId: GW, id: 'later', sentAt: wall.ms });
    expect(await send(first.r, later)).toMatchObject({ ok: true });
    // A power cut: the Pi starts in 1970. The nonce file's floor keeps "now" from going back, so the old one is stale.
    wall.ms = 0;
    const second = router(dir, [a], wall);
    expect(await send(second.r, old)).toMatchObject({ ok: false, error: { code: 'EXPIRED' } });
    expect(second.ran).toEqual([]);
  });

  it('at most N commands within their expiry: the next is refused, not an unexpired nonce forgotten', async () => {
    const a = countyKey('a');
    const wall = { ms: NOW, synced: true };
    const { r } = router(tempDir(), [a], wall, 2);
    for (const id of ['c1', 'c2'])
      expect(await send(r, a.sign({ command: 'ping', gatewayId: GW, id, sentAt: NOW }))).toMatchObject({ ok: true });
    const third = await send(r, a.sign({ command: 'ping', gatewayId: GW, id: 'c3', sentAt: NOW }));
    expect(third.error).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/next is taken in 60 s/),
    });
    wall.ms += 60_000; // both expired: room again
    expect(await send(r, a.sign({ command: 'ping', gatewayId: GW, id: 'c4', sentAt: wall.ms }))).toMatchObject({
      ok: true,
    });
  });

  it('a damaged nonce file is kept aside and the gate goes on', async () => {
    const dir = tempDir();
    writeFileSync(nonceFile(dir), '{"v":1,"floor":');
    const a = countyKey('a');
    const { r } = router(dir, [a], { ms: NOW, synced: true });
    expect(await send(r, a.sign({ command: 'ping', gatewayId: GW, id: 'x' }))).toMatchObject({ ok: true });
    expect(readdirSync(dir).filter((f) => f.startsWith('command-nonces.json.bad-'))).toHaveLength(1);
    expect(existsSync(nonceFile(dir))).toBe(true);
  });

  it(
    'a flood of forgeries is answered in full and recorded within a budget that counts the rest',
    { timeout: 20_000 },
    async () => {
      const a = countyKey('a');
      const { r } = router(tempDir(), [a], { ms: NOW, synced: true });
      const records: Refusal[] = [];
      r.onRefused((x) => records.push(x));
      const replies = [];
      for (let i = 0; i < 12; i += 1) replies.push(await send(r, JSON.stringify({ id: `f${i}` })));
      expect(replies.map((x) => x.error?.code)).toEqual(Array(12).fill('UNSIGNED'));
      expect(records.map((x) => x.id)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9']);
      await new Promise((res) => setTimeout(res, 6_100)); // one record every 6 s past the first 10
      await send(r, JSON.stringify({ id: 'f12' }));
      expect(records.at(-1)).toEqual({
        command: 'ping',
        id: 'f12',
        code: 'UNSIGNED',
        message: expect.any(String),
        keyId: null,
        unrecorded: 2,
      });
    },
  );

  it('with an empty key list commands are plain as before, and an envelope is nothing special', async () => {
    const dir = tempDir();
    const { r, ran } = router(dir, [], { ms: NOW, synced: true });
    expect(await send(r, JSON.stringify({ id: 'plain' }))).toMatchObject({ ok: true });
    expect(ran).toEqual([{ id: 'plain', keyId: null }]);
    const env = countyKey('a').sign({ command: 'ping', gatewayId: GW, id: 'env' });
    expect(await send(r, env)).toMatchObject({ ok: false, error: { code: 'MALFORMED' } });
    expect(existsSync(join(dir, 'command-nonces.json'))).toBe(false);
  });
});
