/** County commands that reach into the running process: reload-config (through the CLI) and siren-test. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { AgentChild } from '../helpers/agent-child.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { startBoard } from '../helpers/field-peers.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { tcpBus, ioBoard } from '../helpers/village-config.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('county commands', () => {
  it(
    'reload-config: a bad file is refused with its problems and the running config stays; a good one applies',
    { timeout: 30_000 },
    async () => {
      const dir = tempDir();
      const file = join(dir, 'gateway.yaml');
      const good = (health: number) => ({
        version: 1,
        gateway: { id: 'gw-reload' },
        dataDir: join(dir, 'data'),
        log: { level: 'error' },
        health: { intervalSec: health },
        mqtt: {
          url: brokerRef.current.url,
          protocolVersion: 4,
          willDelaySec: 0,
          reconnect: { minMs: 100, maxMs: 1000 },
        },
      });
      writeFileSync(file, stringify(good(3600)));
      const statuses: Record<string, unknown>[] = [];
      const county = new CountySubscriber({ url: brokerRef.current.url, clientId: 'county-reload' });
      county.on('status', (_t, b) => statuses.push(b as Record<string, unknown>));
      await county.start();
      cleanup(() => county.stop());
      const agent = new AgentChild(file).start();
      cleanup(() => agent.kill('SIGTERM'));
      const check = new DeliveryCheck(county).watchProcess(agent);
      await waitUntil(() => statuses.some((s) => s.state === 'online'), 10_000, 'online');
      const firstHash = statuses.find((s) => s.state === 'online')!.configHash;
      const replies: Record<string, unknown>[] = [];
      county.client!.on('message', (t, p) => t.includes('/cmd-reply/') && replies.push(JSON.parse(p.toString())));
      await county.client!.subscribeAsync('village/gw-reload/cmd-reply/+', { qos: 1 });

      writeFileSync(
        file,
        stringify({
          ...good(3600),
          health: { intervalSec: 0 },
          mqtt: { url: brokerRef.current.url, protocolVersion: 4, pasword: 'x' },
        }),
      );
      await county.client!.publishAsync('village/gw-reload/cmd/reload-config', JSON.stringify({ id: 'r1' }), {
        qos: 1,
      });
      await waitUntil(() => replies.some((r) => r.id === 'r1'), 5000, 'the refusal');
      const refused = replies.find((r) => r.id === 'r1') as { ok: boolean; error: { code: string; message: string } };
      expect(refused.ok).toBe(false);
      expect(refused.error.code).toBe('CONFIG_INVALID');
      expect(refused.error.message).toContain('health.intervalSec: must be 1..86400 (got 0)');
      expect(refused.error.message).toContain('mqtt.pasword: unknown key');
      await new Promise((r) => setTimeout(r, 500)); // an absence (no restart, so no offline status) can only be shown by waiting
      expect(statuses.filter((s) => s.state === 'offline')).toHaveLength(0); // nothing restarted

      writeFileSync(file, stringify(good(600)));
      await county.client!.publishAsync('village/gw-reload/cmd/reload-config', JSON.stringify({ id: 'r2' }), {
        qos: 1,
      });
      await waitUntil(() => replies.some((r) => r.id === 'r2'), 5000, 'the acceptance');
      const applied = replies.find((r) => r.id === 'r2') as { ok: boolean; result: { configHash: string } };
      expect(applied.ok).toBe(true);
      expect(applied.result.configHash).not.toBe(firstHash);
      await waitUntil(
        () => statuses.some((s) => s.state === 'online' && s.configHash === applied.result.configHash),
        10_000,
        'online with the new config',
      );
      const v = await check.expectAllDelivered(); // the boot before the reload and the one after it
      expect(v.boots).toHaveLength(2);
    },
  );

  it('siren-test sounds the configured sirens briefly and records it', async () => {
    const { sim, board } = await startBoard(cleanup);
    const dir = tempDir();
    const county = await startCounty(brokerRef.current.url, cleanup, 'county-siren-test');
    const config = testConfig(brokerRef.current.url, dir, {
      buses: [tcpBus(sim.port)],
      devices: [ioBoard({ id: 'panel', pollMs: 100, inputs: { di1: { role: 'input' } } })],
      alarms: { sirens: [{ device: 'panel', output: 'do4', testMs: 300 }] },
    });
    const rig = new AgentRig(config, dir);
    const check = new DeliveryCheck(county).watch(rig.agent);
    await rig.agent.start();
    cleanup(() => rig.agent.stop());
    const reply = await rig.agent.commands.execute(
      'siren-test',
      Buffer.from(JSON.stringify({ sentAt: Date.now(), args: { ms: 200 } })),
      false,
    );
    expect(reply).toMatchObject({ ok: true, result: { sirens: [{ device: 'panel', output: 'do4', ok: true }] } });
    expect(board.coils.get(3)).toBe(true);
    await waitUntil(() => board.coils.get(3) === false, 2000, 'the test to end');
    await rig.waitFor((e) => e.type === 'alarm.siren_test');
    await check.expectAllDelivered(); // the record of the test among them
  });
});
