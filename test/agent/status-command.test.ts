/**
 * `village-gateway status` as a technician runs it beside a real CLI agent: a real broker, the
 * panic panel's Modbus board, a press the county has not acknowledged. Then the agent frozen
 * and killed: the status file's time is set back (a fake clock for what would be minutes of
 * waiting) and the command must say so, with the backlog read from the outbox itself.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentChild, CLI } from '../helpers/agent-child.js';
import { cliVillageConfig } from '../helpers/cli-village.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

function status(file: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, VILLAGE_GATEWAY_CONFIG: file }; // as the installed command sets it
  for (const k of ['LC_ALL', 'LC_MESSAGES']) delete env[k];
  env.LANG = 'C.UTF-8'; // English, whatever this machine's locale (status-lang.test.ts has the Chinese)
  const r = spawnSync(process.execPath, [CLI, 'status', ...args], { encoding: 'utf8', timeout: 20_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Sets the status file's times back, as if the agent had written it `ms` earlier. */
function ageStatusFile(dataDir: string, ms: number): void {
  const file = join(dataDir, 'status.json');
  const view = JSON.parse(readFileSync(file, 'utf8')) as { writtenAt: string; link: { lastCountyContact: string } };
  const back = (iso: string) => new Date(Date.parse(iso) - ms).toISOString();
  view.writtenAt = back(view.writtenAt);
  view.link.lastCountyContact = back(view.link.lastCountyContact);
  writeFileSync(file, JSON.stringify(view));
}

describe('village-gateway status', () => {
  it('shows agent, link, county contact, backlog, alarms and devices in 40 columns; says when the agent is gone', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const file = AgentChild.writeConfig(
      dir,
      cliVillageConfig({ gatewayId: 'gw-status', dataDir, url: brokerRef.current.url, panel }),
    );
    expect(status(file).out).toMatch(/^agent {4}NEVER RAN with this data$/m);

    const agent = new AgentChild(file).start();
    cleanup(() => agent.kill());
    await agent.waitForStored(1);
    expect(await panel.press('di1', 5000, () => agent.running)).toBe(true);
    await waitUntil(() => agent.stored.size >= 3, 10_000, 'the press and its alert stored'); // started, pressed, alert
    await new Promise((r) => setTimeout(r, 5500)); // the next status write, with the link up and the alert

    const live = status(file);
    expect(live.err).toBe('');
    expect(live.code).toBe(0);
    const lines = live.out.trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(40);
    expect(lines[0]).toMatch(/^gw-status v\d+\.\d+\.\d+/);
    expect(lines).toContain(`agent    running, pid ${agent.pid}`);
    expect(live.out).toMatch(/^link {5}up$/m);
    expect(live.out).toMatch(/^county {3}heard \d+ s ago$/m);
    expect(live.out).toMatch(/^backlog {2}\d+ waiting$/m);
    expect(live.out).toMatch(/^alarms {3}1 ACTIVE$/m);
    expect(live.out).toMatch(/^ {2}house-1-panic \d+ s ago$/m);
    expect(live.out).toMatch(/^ {2}house-1-panic \d+ s ago\n {4}panic button pressed$/m); // the alert's message
    // The hour's SMS budget: the residents' share flows cannot spend (no modem here: nothing sent).
    expect(live.out).toMatch(/^sms\/hour alarms 0 sent, 20 left$/m);
    expect(live.out).toMatch(/^ {2}flows 0 of 5, 15 kept$/m);
    expect(live.out).not.toMatch(/^lost/m); // no alarm lost: no line
    expect(live.out).toMatch(/^devices {2}1 of 1 online$/m);
    expect(live.out).toMatch(/^ {2}io ok \d+ s$/m);

    // The same live agent in Chinese.
    const zh = status(file, '--lang', 'zh-CN').out;
    expect(zh).toContain(`程序     运行中，pid ${agent.pid}`);
    expect(zh).toMatch(/^报警 {5}1 个未处理！\n {2}house-1-panic \d+ 秒前\n {4}panic button pressed$/m);
    expect(zh).toMatch(/^设备 {5}[01]\/1 在线$/m); // (the board may miss a poll under load: the words matter here)

    const json = JSON.parse(status(file, '--json').out) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(json.agent).toMatchObject({ state: 'running', pid: agent.pid });
    expect(json.view.link).toMatchObject({ up: true });
    expect(Date.parse(json.view.link.lastCountyContact)).toBeGreaterThan(Date.now() - 60_000);
    expect(json.view.alarms.active).toEqual([expect.objectContaining({ deviceId: 'house-1-panic', rule: 'panic' })]);

    agent.signal('SIGSTOP'); // hangs: the process is there, the file gets old
    cleanup(() => agent.signal('SIGCONT'));
    ageStatusFile(dataDir, 70_000);
    const frozen = status(file);
    expect(frozen.code).toBe(3);
    expect(frozen.out).toContain(`agent    NOT RESPONDING, pid ${agent.pid}`);
    expect(frozen.out).toMatch(/^updated {2}(7\d) s ago$/m);

    await agent.kill('SIGKILL');
    expect(status(file).out).toContain(`agent    NOT RUNNING, pid ${agent.pid}`); // at once: the pid is gone
    ageStatusFile(dataDir, 5 * 60_000);
    const gone = status(file);
    expect(gone.code).toBe(3);
    expect(gone.out).toContain(`agent    NOT RUNNING, pid ${agent.pid}`);
    expect(gone.out).toMatch(/^updated {2}6 min ago$/m);
    expect(gone.out).toContain('(what follows is from that update)');
    expect(gone.out).toMatch(/^backlog {2}\d+ waiting \(outbox\)$/m); // read from the outbox itself
    expect(gone.out).toMatch(/^county {3}heard (6|7) min ago$/m);
  });
});
