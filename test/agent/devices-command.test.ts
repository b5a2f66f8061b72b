/**
 * `village-gateway devices` and `outbox stats` as a technician runs them beside a real CLI agent
 * (a real broker, the panic panel's Modbus board): 40 columns by default, why a device is down,
 * no secrets needed (the MQTT password file is gone once the agent has read it), and after the
 * agent stops, no device is called online: the snapshot is history and the report says so.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentChild, CLI } from '../helpers/agent-child.js';
import { cliVillageConfig } from '../helpers/cli-village.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

function cli(file: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--config', file], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const narrow = (out: string) => {
  for (const line of out.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(40);
};

describe('village-gateway devices and outbox stats', () => {
  it('fit 40 columns, say why a device is down, need no secrets, and stop saying online when the agent stops', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const secret = join(dir, 'mqtt-password');
    writeFileSync(secret, 'any-password\n');
    const config = cliVillageConfig({ gatewayId: 'gw-devices', dataDir, url: brokerRef.current.url, panel });
    (config.mqtt as Record<string, unknown>).password = { file: secret };
    const file = AgentChild.writeConfig(dir, config);

    const before = cli(file, 'devices');
    expect(before.code).toBe(0);
    expect(before.out).toMatch(/^agent NEVER RAN with this data/m);
    expect(before.out).toMatch(/^io \? {4}never$/m);
    narrow(before.out);

    const agent = new AgentChild(file).start();
    cleanup(() => agent.kill());
    await agent.waitForStored(1);
    rmSync(secret); // read at start; the read-only commands must not need it
    await new Promise((r) => setTimeout(r, 5500)); // the next snapshot, the board polled

    const live = cli(file, 'devices');
    expect(live.err).toBe('');
    expect(live.code).toBe(0);
    narrow(live.out);
    expect(live.out).toMatch(/^io ok {3}\d+ s ago$/m);
    expect(live.out).toMatch(/^ {2}modbus-tcp 127\.0\.0\.1:\d+ unit 1$/m);
    expect(live.out).toMatch(/^bus tcp up, \d+ req$/m);

    panel.board.dead = true; // the board stops answering: offline after a few polls
    await new Promise((r) => setTimeout(r, 7000));
    const down = cli(file, 'devices');
    narrow(down.out);
    expect(down.out).toMatch(/^io DOWN \d+ s ago \d+ err$/m);
    expect(down.out).toMatch(/^ {2}unit 1 did not answer within 300 ms$/m); // why: its last error
    const status = cli(file, 'status');
    expect(status.out).toMatch(/^ {2}io DOWN \d+ s \d+err\n {4}unit 1 did not answer within 300 ms$/m); // status says why too
    const wide = cli(file, 'devices', '--wide');
    expect(wide.out).toMatch(
      /^io\s+modbus\s+modbus-tcp 127\.0\.0\.1:\d+ unit 1\s+NO\s+\d+ s ago\s+\d+\s+unit 1 did not answer within 300 ms$/m,
    );

    const stats = cli(file, 'outbox', 'stats');
    expect(stats.err).toBe('');
    expect(stats.code).toBe(0);
    narrow(stats.out);
    expect(stats.out).toMatch(/^backlog {2}\d+ waiting, [\d.]+ (B|KiB|MiB)$/m);
    const statsJson = JSON.parse(cli(file, 'outbox', 'stats', '--json').out) as { total: { count: number } };
    expect(statsJson.total.count).toBeGreaterThanOrEqual(0);

    await agent.kill('SIGTERM');
    const after = cli(file, 'devices');
    expect(after.code).toBe(0);
    narrow(after.out);
    expect(after.out).toMatch(/^agent NOT RUNNING:\nno device is being read\nas of \d+ s ago$/m);
    expect(after.out).toMatch(/^io \? {4}\d+ s ago( \d+ err)?$/m);
    expect(after.out).not.toMatch(/ ok /);
    const json = JSON.parse(cli(file, 'devices', '--json').out) as {
      agent: { state: string };
      devices: { id: string; online: boolean | null }[];
    };
    expect(json.agent.state).toBe('not running');
    expect(json.devices).toEqual([expect.objectContaining({ id: 'io', online: null })]);
  }, 90_000);
});
