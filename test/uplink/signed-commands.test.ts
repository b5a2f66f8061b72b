/**
 * Signed commands end to end: a real agent (the built CLI) with county keys, a real Mosquitto,
 * the county publishing envelopes. Every refusal has its code and a command.refused event
 * reaching the county; a replay is refused after a restart of the agent's process too.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { countyKey } from '../helpers/county-keys.js';
import { signString } from '../../scripts/county/signed-envelope.js';
import { baseConfig, PushRig } from '../push/push-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const rig = (id: string) => new PushRig(id, tempDir(), brokerRef.current.url, cleanup);
const withKeys = (r: PushRig, keys: { id: string; publicKey: string }[]) => ({
  ...baseConfig(r.gatewayId, r.dir, r.url),
  county: { keys },
});

describe('signed commands', () => {
  it(
    'refuses unsigned, unknown key, bad signature, wrong target, expired, no expiry and replayed (across a restart); runs a good one',
    { timeout: 60_000 },
    async () => {
      const a = countyKey('county-a');
      const stranger = countyKey('county-x');
      const r = rig('gw-signed');
      await r.start(withKeys(r, [a.entry]));
      const gw = r.gatewayId;
      const now = Date.now();

      const unsigned = await r.send('ping', JSON.stringify({ id: 'p0', sentAt: now }), 'p0');
      expect(unsigned.error?.code).toBe('UNSIGNED');

      // A key of the right shape that the config does not list; and one that is listed, claimed by a stranger.
      const unknown = await r.send('ping', stranger.sign({ command: 'ping', gatewayId: gw, id: 'p1' }), 'p1');
      expect(unknown.error).toMatchObject({ code: 'UNKNOWN_KEY' });
      expect(unknown.error!.message).toContain('"county-x"');
      const forged = JSON.parse(stranger.sign({ command: 'ping', gatewayId: gw, id: 'p2' })) as object;
      const bad = await r.send('ping', JSON.stringify({ ...forged, keyId: 'county-a' }), 'p2');
      expect(bad.error?.code).toBe('BAD_SIGNATURE');
      // Signed by A, then its args changed: the bytes are not the ones signed.
      const good = JSON.parse(a.sign({ command: 'output', gatewayId: gw, id: 'p3', args: { action: 'off' } })) as {
        signed: string;
      };
      const tampered = { ...good, signed: good.signed.replace('"off"', '"on"') };
      expect((await r.send('output', JSON.stringify(tampered), 'p3')).error?.code).toBe('BAD_SIGNATURE');

      const otherCommand = await r.send('ping', a.sign({ command: 'status', gatewayId: gw, id: 'p4' }), 'p4');
      expect(otherCommand.error?.code).toBe('WRONG_TARGET');
      const otherGateway = await r.send('ping', a.sign({ command: 'ping', gatewayId: 'gw-next-door', id: 'p5' }), 'p5');
      expect(otherGateway.error?.code).toBe('WRONG_TARGET');
      expect(otherGateway.error?.message).toContain('gw-next-door');

      const expired = await r.send(
        'ping',
        a.sign({ command: 'ping', gatewayId: gw, id: 'p6', sentAt: now - 120_000, expiresAt: now - 60_000 }),
        'p6',
      );
      expect(expired.error?.code).toBe('EXPIRED');
      // Even a command that runs without an expiry unsigned (ping) must carry one signed: its nonce is kept until then.
      const noExpiry = signString(
        a.key,
        a.id,
        JSON.stringify({ command: 'ping', gatewayId: gw, id: 'p7', nonce: 'n-0000007' }),
      );
      expect((await r.send('ping', JSON.stringify(noExpiry), 'p7')).error?.code).toBe('NO_EXPIRY');

      const ping = a.sign({ command: 'ping', gatewayId: gw, id: 'p8' });
      const ran = await r.send('ping', ping, 'p8');
      expect(ran).toMatchObject({ ok: true, result: { pong: true } });
      const replayed = await r.send('ping', ping, 'p8');
      expect(replayed.error).toMatchObject({ code: 'REPLAYED' });
      expect(r.replies.filter((x) => x.id === 'p8')).toHaveLength(2);

      // A record the agent keeps of a command names the key that signed it.
      const picture = a.sign({
        command: 'picture',
        gatewayId: gw,
        id: 'p9',
        args: { pictureId: randomUUID(), by: 'duty officer' },
      });
      expect((await r.send('picture', picture, 'p9')).ok).toBe(false); // no such picture: refused, and recorded
      const record = await r.event('media.requested');
      expect(record.data).toMatchObject({ command: 'p9', by: 'duty officer', keyId: 'county-a', outcome: 'refused' });

      const refused = await waitForRefusals(r, 9);
      expect(refused.map((e) => [e.data.id, e.data.code, e.data.keyId])).toEqual([
        ['p0', 'UNSIGNED', null],
        ['p1', 'UNKNOWN_KEY', 'county-x'],
        ['p2', 'BAD_SIGNATURE', 'county-a'],
        ['p3', 'BAD_SIGNATURE', 'county-a'],
        ['p4', 'WRONG_TARGET', 'county-a'],
        ['p5', 'WRONG_TARGET', 'county-a'],
        ['p6', 'EXPIRED', 'county-a'],
        ['p7', 'NO_EXPIRY', 'county-a'],
        ['p8', 'REPLAYED', 'county-a'],
      ]);
      expect(refused[0]!.data).toMatchObject({ command: 'ping', message: expect.stringContaining('signed') });
      // The refusals stored no nonce: only the commands that got to run are in the file (the picture
      // ran and failed: its nonce is spent too).
      const file = join(r.dir, 'data', 'command-nonces.json');
      const nonces = Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { nonces: object }).nonces);
      expect(nonces).toEqual([nonceOf(ping), nonceOf(picture)]);

      // The agent's process ends and starts again: the nonce is still known.
      const seen = r.statuses.length;
      await r.agent.kill('SIGTERM');
      r.startAgent();
      await r.onlineWith(null, 15_000, seen);
      const afterRestart = await r.send('ping', ping, 'p8');
      expect(r.replies.filter((x) => x.id === 'p8')).toHaveLength(3);
      expect(afterRestart.error?.code).toBe('REPLAYED');
      const fresh = await r.send('ping', a.sign({ command: 'ping', gatewayId: gw, id: 'p10' }), 'p10');
      expect(fresh.ok).toBe(true);
      expect(existsSync(file)).toBe(true);

      // A signed restart (the agent restarts inside its process) is recorded with its key, and cannot be replayed after it.
      const restart = a.sign({ command: 'restart', gatewayId: gw, id: 'r1', args: { by: 'duty officer' } });
      const seen2 = r.statuses.length;
      expect((await r.send('restart', restart, 'r1')).ok).toBe(true);
      const asked = await r.event('gateway.restart_requested');
      expect(asked.data).toEqual({ by: 'duty officer', command: 'r1', keyId: 'county-a' });
      await r.onlineWith(null, 15_000, seen2 + 1); // offline, then online again
      expect((await r.send('restart', restart, 'r1')).error?.code).toBe('REPLAYED');
    },
  );
});

const nonceOf = (envelope: string) =>
  (JSON.parse((JSON.parse(envelope) as { signed: string }).signed) as { nonce: string }).nonce;

async function waitForRefusals(r: PushRig, n: number) {
  const { waitUntil } = await import('../helpers/wait.js');
  const refusals = () => r.events.filter((e) => e.type === 'command.refused');
  await waitUntil(() => refusals().length >= n, 15_000, `${n} command.refused events`);
  return refusals() as { data: Record<string, unknown> }[];
}
