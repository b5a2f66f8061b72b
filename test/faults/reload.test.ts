/**
 * Reloads that cannot brick a gateway (the CLI, a real broker): a config that validates but
 * cannot run is refused while the working agent runs on; one that fails at start gives way
 * to the previous config; a bad file at start-up falls back to the last good one; SIGHUP
 * reloads the same safe way. Every boot is checked end to end.
 */
import { mkdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../config/schema/gateway-config.js';
import { type ReceivedEvent } from '../../scripts/county-subscriber.js';
import { AgentChild } from '../helpers/agent-child.js';
import type { DeviceInput } from '../helpers/config-input.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

async function village(id: string) {
  const dir = tempDir();
  const file = join(dir, 'gateway.yaml');
  const config = (over: Partial<GatewayConfigInput> = {}): GatewayConfigInput => ({
    version: 1,
    gateway: { id },
    dataDir: join(dir, 'data'),
    log: { level: 'error' },
    health: { intervalSec: 3600 },
    mqtt: { url: brokerRef.current.url, protocolVersion: 4, willDelaySec: 0, reconnect: { minMs: 100, maxMs: 1000 } },
    devices: [{ id: 'door-1', driver: 'synthetic', rates: { doorPerSec: 5, buttonPerSec: 0, telemetryPerSec: 0 } }],
    ...over,
  });
  writeFileSync(file, stringify(config()));
  const county = await startCounty(brokerRef.current.url, cleanup, `county-${id}`);
  const check = new DeliveryCheck(county);
  const replies: Record<string, unknown>[] = [];
  county.client!.on('message', (t, p) => t.includes('/cmd-reply/') && replies.push(JSON.parse(p.toString())));
  await county.client!.subscribeAsync(`village/${id}/cmd-reply/+`, { qos: 1 });
  const start = () => {
    const agent = new AgentChild(file).start();
    cleanup(() => agent.kill('SIGTERM'));
    check.watchProcess(agent);
    return agent;
  };
  const byType = (type: string) => [...county.events.values()].filter((e) => e.type === type && e.gatewayId === id);
  const command = async (cmdId: string) => {
    await county.client!.publishAsync(`village/${id}/cmd/reload-config`, JSON.stringify({ id: cmdId }), { qos: 1 });
    await waitUntil(() => replies.some((r) => r.id === cmdId), 10_000, `reply ${cmdId}`);
    return replies.find((r) => r.id === cmdId) as {
      ok: boolean;
      result?: Record<string, unknown>;
      error?: { code: string; message: string };
    };
  };
  const statuses: Record<string, unknown>[] = [];
  county.on(
    'status',
    (topic, body) => topic === `village/${id}/status` && statuses.push(body as Record<string, unknown>),
  );
  /** Connected and subscribed to its commands (it subscribes before its drain sends `gateway.started`). */
  const online = () =>
    waitUntil(
      () => statuses.some((s) => s.state === 'online') && byType('gateway.started').length > 0,
      10_000,
      'online',
    );
  return { dir, file, config, county, check, start, byType, command, online };
}

describe('reload that cannot brick a gateway', () => {
  it('refuses a config that validates but cannot run (dataDir under a file, or in /proc) while the agent runs on', async () => {
    const v = await village('gw-rl-1');
    const agent = v.start();
    await v.online();
    writeFileSync(join(v.dir, 'plain-file'), 'x');
    for (const [n, dataDir] of [
      ['a', join(v.dir, 'plain-file', 'data')],
      ['b', '/proc/1/vg-data'],
    ] as const) {
      writeFileSync(v.file, stringify(v.config({ dataDir })));
      const reply = await v.command(`cannot-${n}`);
      expect(reply).toMatchObject({ ok: false, error: { code: 'CONFIG_CANNOT_RUN' } });
      expect(reply.error!.message).toContain(`dataDir ${dataDir}`);
    }
    await agent.waitForStored(agent.stored.size + 5); // still running, still storing
    expect(agent.exitCode).toBeNull();
    expect(v.byType('gateway.started')).toHaveLength(1);
    await v.check.expectAllDelivered();
  });

  it('applies a good config only once the new agent runs, and keeps it as the last good one', async () => {
    const v = await village('gw-rl-2');
    v.start();
    await v.online();
    const first = v.byType('gateway.started')[0]!;
    writeFileSync(v.file, stringify(v.config({ health: { intervalSec: 600 } })));
    const reply = await v.command('good');
    expect(reply).toMatchObject({ ok: true, result: { accepted: true, applied: false } });
    await v.county.waitFor(() => v.byType('gateway.config_applied').length === 1, 15_000);
    const applied = v.byType('gateway.config_applied')[0]!;
    expect(applied.bootId).not.toBe(first.bootId); // said by the new agent
    expect(applied.data).toMatchObject({ configHash: reply.result!.configHash, previous: first.data.configHash });
    await waitUntil(
      () =>
        existsSync(`${v.file}.last-good`) &&
        readFileSync(`${v.file}.last-good`, 'utf8') === readFileSync(v.file, 'utf8'),
      5000,
      'the last good config',
    );
    expect((await v.check.expectAllDelivered()).boots).toHaveLength(2);
  });

  it('goes back to the previous config when the new one fails to start (its dataDir is held by another agent)', async () => {
    const v = await village('gw-rl-3');
    const otherDir = join(v.dir, 'other');
    mkdirSync(otherDir);
    const holderFile = join(otherDir, 'holder.yaml');
    writeFileSync(
      holderFile,
      stringify({ ...v.config({ dataDir: join(otherDir, 'data') }), gateway: { id: 'gw-rl-3-holder' } }),
    );
    const holder = new AgentChild(holderFile).start();
    cleanup(() => holder.kill('SIGTERM'));
    await holder.waitForStored(1);
    const agent = v.start();
    await v.online();
    const good = readFileSync(v.file, 'utf8');
    writeFileSync(v.file, stringify(v.config({ dataDir: join(otherDir, 'data') })));
    expect(await v.command('locked')).toMatchObject({ ok: true, result: { accepted: true } });
    await v.county.waitFor(() => v.byType('gateway.config_rejected').length === 1, 15_000);
    expect(v.byType('gateway.config_rejected')[0]!.data).toMatchObject({
      by: 'start',
      error: expect.stringContaining('in use by another agent'),
    });
    expect(v.byType('gateway.config_applied')).toHaveLength(0);
    expect(agent.exitCode).toBeNull();
    expect(readFileSync(`${v.file}.last-good`, 'utf8')).toBe(good);
    // A reboot with that file still on disk: it validates, cannot start, and the last good config runs.
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const rebooted = v.start();
    await v.county.waitFor(() => v.byType('gateway.config_fallback').length === 1, 15_000);
    expect(v.byType('gateway.config_fallback')[0]!.data).toMatchObject({
      error: expect.stringContaining('in use by another agent'),
    });
    expect(rebooted.exitCode).toBeNull();
    await v.check.expectAllDelivered();
  });

  it('a stop signal during start-up is not lost: the agent starts, flushes and exits 0', async () => {
    const v = await village('gw-rl-6');
    const agent = v.start();
    await agent.waitForStored(1); // gateway.started is stored early in the start, before the drivers run
    agent.signal('SIGTERM');
    expect(await agent.exit()).toEqual({ code: 0, signal: null });
  });

  it('starts on the last good config when the file is bad, and says so; without one it refuses with exit 2', async () => {
    const v = await village('gw-rl-4');
    const agent = v.start();
    await v.online();
    await waitUntil(() => existsSync(`${v.file}.last-good`), 5000, 'the last good config');
    await agent.kill('SIGTERM');
    writeFileSync(v.file, stringify({ ...v.config(), mqtt: { url: 'not a url' } }));
    const again = v.start();
    await v.county.waitFor(() => v.byType('gateway.config_fallback').length === 1, 15_000);
    expect(v.byType('gateway.config_fallback')[0]!.data).toMatchObject({
      problems: [expect.stringContaining('mqtt.url')],
    });
    await again.kill('SIGTERM');
    await v.check.expectAllDelivered();

    const fresh = await village('gw-rl-4b');
    writeFileSync(fresh.file, stringify({ ...fresh.config(), mqtt: { url: 'not a url' } }));
    const refused = new AgentChild(fresh.file).start();
    expect(await refused.exit()).toEqual({ code: 2, signal: null });
    expect(refused.output).toContain('mqtt.url');
  });

  it('reloads on SIGHUP the same safe way: a bad file is rejected and reported, a good one applied', async () => {
    const v = await village('gw-rl-5');
    const agent = v.start();
    await v.online();
    writeFileSync(v.file, 'version: 1\ngateway: [');
    agent.signal('SIGHUP');
    await v.county.waitFor(() => v.byType('gateway.config_rejected').length === 1, 15_000);
    expect(v.byType('gateway.config_rejected')[0]!.data).toMatchObject({ by: 'SIGHUP', code: 'CONFIG_INVALID' });
    expect(agent.exitCode).toBeNull();
    // A config wrong thousands of times over: the report stays small enough for the county.
    // On purpose: a driver the schema does not know, so the cast past the device type.
    const wrong = Array.from({ length: 2000 }, (_, i) => ({
      id: `d${i}`,
      driver: 'no-such-driver',
    })) as unknown as DeviceInput[];
    writeFileSync(v.file, stringify(v.config({ devices: wrong })));
    agent.signal('SIGHUP');
    await v.county.waitFor(() => v.byType('gateway.config_rejected').length === 2, 15_000);
    const { problems } = v.byType('gateway.config_rejected')[1]!.data as { problems: string[] };
    expect(problems).toHaveLength(21);
    expect(problems[0]).toMatch(/^devices\[0\]\.driver: /);
    expect(problems[20]).toMatch(/^… and 1980 more \(check-config on the gateway prints them all\)$/);
    expect(agent.exitCode).toBeNull();
    writeFileSync(v.file, stringify(v.config({ health: { intervalSec: 900 } })));
    agent.signal('SIGHUP');
    await v.county.waitFor(() => v.byType('gateway.config_applied').length === 1, 15_000);
    expect(agent.exitCode).toBeNull();
    const started = v.byType('gateway.started') as ReceivedEvent[];
    expect(started).toHaveLength(2);
    expect((await v.check.expectAllDelivered()).boots).toHaveLength(2);
  });
});
