/**
 * County config push through the built CLI with a real broker: config.get, config.apply
 * with its refusals, the probation that keeps a good push and rolls a bad one back by itself.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { CLI } from '../helpers/agent-child.js';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { ioBoard, tcpBus } from '../helpers/village-config.js';
import { baseConfig, PushRig } from './push-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

/** A port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise((res) => server.close(res));
  return port;
}

const rig = (id: string) => new PushRig(id, tempDir(), brokerRef.current.url, cleanup);

describe('config push', () => {
  it('config.get shows the running config without secret values; refusals name why', { timeout: 40_000 }, async () => {
    const r = rig('gw-push-get');
    const first = await r.start({
      ...baseConfig(r.gatewayId, r.dir, r.url),
      mqtt: { ...baseConfig(r.gatewayId, r.dir, r.url).mqtt, username: 'gw', password: 'hunter2' },
    });
    const got = await r.command('config.get');
    expect(got.ok).toBe(true);
    expect(got.result!.configHash).toBe(first);
    expect(JSON.stringify(got.result)).not.toContain('hunter2');
    expect((got.result!.config as { mqtt: { password: string } }).mqtt.password).toBe('<redacted>');

    const good = baseConfig(r.gatewayId, r.dir, r.url);
    const stale = await r.command('config.apply', { config: good, expectedHash: 'abcdef123456' });
    expect(stale.error?.code).toBe('CONFIG_CHANGED');
    expect(stale.error?.message).toContain(first);
    expect(stale.error?.message).toContain('abcdef123456');

    const invalid = await r.command('config.apply', {
      config: { ...good, health: { intervalSec: 0 }, mqtt: { ...good.mqtt, pasword: 'x' } },
      expectedHash: first,
    });
    expect(invalid.error?.code).toBe('CONFIG_INVALID');
    expect(invalid.error?.message).toContain('health.intervalSec: must be 1..86400 (got 0)');
    expect(invalid.error?.message).toContain('mqtt.pasword: unknown key');

    const inline = await r.command('config.apply', {
      config: { ...good, mqtt: { ...good.mqtt, password: 's3cret' } },
      expectedHash: first,
    });
    expect(inline.error?.code).toBe('CONFIG_INLINE_SECRET');
    expect(inline.error?.message).toContain('mqtt.password');
    expect(inline.error?.message).not.toContain('s3cret');
    expect(r.statuses.filter((s) => s.state === 'offline')).toHaveLength(0); // nothing restarted
  });

  it(
    'a pushed config that adds a rule is applied after probation and the rule fires',
    { timeout: 40_000 },
    async () => {
      const r = rig('gw-push-rule');
      const first = await r.start(baseConfig(r.gatewayId, r.dir, r.url));
      const pushed = {
        ...baseConfig(r.gatewayId, r.dir, r.url),
        rules: [
          {
            id: 'meter-seen',
            when: { type: 'sensor.telemetry', devices: ['meter'] },
            actions: [{ do: 'alert', priority: 'high', message: 'meter reported' }],
          },
        ],
      };
      const seen = r.statuses.length;
      const reply = await r.command('config.apply', {
        config: pushed,
        expectedHash: first,
        by: 'county-test',
        probationSec: 2,
      });
      expect(reply.ok).toBe(true);
      const hash = reply.result!.configHash as string;
      expect(hash).not.toBe(first);
      await r.onlineWith(hash, 15_000, seen);
      const alert = await r.event('alert.raised');
      expect(alert.data).toMatchObject({ rule: 'meter-seen', message: 'meter reported' });
      const applied = await r.event('config.applied');
      expect(applied.data).toEqual({ hash, previousHash: first, by: 'county-test', keyId: null, probationSec: 2 });
      expect(readFileSync(`${r.file}.pre-push`, 'utf8')).toContain('gw-push-rule');
      // An active alert: the next push is refused rather than restart the agent under it.
      const during = await r.command('config.apply', {
        config: baseConfig(r.gatewayId, r.dir, r.url),
        expectedHash: hash,
      });
      expect(during.error?.code).toBe('ALARM_ACTIVE');
    },
  );

  it('a config that cannot reach the county rolls back by itself and says why', { timeout: 60_000 }, async () => {
    const r = rig('gw-push-bad');
    const first = await r.start(baseConfig(r.gatewayId, r.dir, r.url));
    const base = baseConfig(r.gatewayId, r.dir, r.url);
    const pushed = { ...base, mqtt: { ...base.mqtt, url: 'mqtt://127.0.0.1:1' } };
    const started = Date.now();
    const reply = await r.command('config.apply', { config: pushed, expectedHash: first, probationSec: 4 });
    expect(reply.ok).toBe(true);
    const back = await r.event('config.rolled_back', 30_000);
    expect(Date.now() - started).toBeLessThan(4_000 + 15_000);
    expect(back.data).toMatchObject({ hash: reply.result!.configHash, previousHash: first, by: 'county' });
    expect(back.data.reason).toContain('the county link did not come back');
    expect(back.priority).toBe('critical');
    await r.onlineWith(first);
    expect(readFileSync(r.file, 'utf8')).not.toContain('127.0.0.1:1');
  });

  it(
    'a config under which a device that was online stays down rolls back, naming it',
    { timeout: 60_000 },
    async () => {
      const r = rig('gw-push-device');
      const first = await r.start(baseConfig(r.gatewayId, r.dir, r.url));
      await new Promise((res) => setTimeout(res, 1000)); // the synthetic meter runs: online before the push
      // Same id, now a Modbus unit on a port nobody listens on: valid, but the meter never answers.
      const meter = ioBoard({ id: 'meter', pollMs: 100, inputs: { di1: { role: 'input' } } });
      const pushed = {
        ...baseConfig(r.gatewayId, r.dir, r.url),
        buses: [tcpBus(await closedPort())],
        devices: [meter],
      };
      const reply = await r.command('config.apply', { config: pushed, expectedHash: first, probationSec: 3 });
      expect(reply.ok).toBe(true);
      const back = await r.event('config.rolled_back', 30_000);
      expect(back.data.reason).toBe('devices not online again: meter');
      await r.onlineWith(first);
    },
  );

  it('an agent that restarts during probation rolls the push back at its next start', { timeout: 60_000 }, async () => {
    const r = rig('gw-push-crash');
    const first = await r.start(baseConfig(r.gatewayId, r.dir, r.url));
    const pushed = { ...baseConfig(r.gatewayId, r.dir, r.url), health: { intervalSec: 600 } };
    const seen = r.statuses.length;
    const reply = await r.command('config.apply', { config: pushed, expectedHash: first, probationSec: 60 });
    const hash = reply.result!.configHash as string;
    await r.onlineWith(hash, 15_000, seen);
    // The county sees the push being judged (villages list shows it)...
    const county = await r.command('status');
    expect(county.result!.push).toMatchObject({ phase: 'probation', hash, previousHash: first, by: 'county' });
    // ...and so does the technician.
    const status = spawnSync(process.execPath, [CLI, 'status', '--config', r.file], { encoding: 'utf8' }).stdout;
    expect(status).toMatch(new RegExp(`push +${hash} on probation\\n +\\d+ s left`));
    await r.agent.kill('SIGKILL'); // a crash, as far as the probation can tell
    const again = r.statuses.length;
    r.startAgent();
    await r.onlineWith(first, 15_000, again);
    const back = await r.event('config.rolled_back');
    expect(back.data).toMatchObject({ hash, previousHash: first });
    expect(back.data.reason).toContain('restarted during probation');
  });
});
