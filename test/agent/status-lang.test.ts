/**
 * `village-gateway status` in Chinese, through the built CLI: `--lang zh-CN`, or the locale
 * environment (LC_ALL, LANG = zh_CN.*), picks the Chinese labels; `--lang en` wins over the
 * environment; `--json` is the same whatever the language. The status file is one a running
 * agent would write (this test's own pid stands for the agent's, so it reads as running), with
 * every row filled and texts long enough to be cut: every line must fit 40 terminal columns,
 * a Chinese character counting two.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/agent-child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

/** Terminal columns, counted apart from the code under test: CJK and fullwidth forms are two. */
const columns = (line: string) =>
  [...line].reduce(
    (w, ch) =>
      w +
      (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch)
        ? 2
        : 1),
    0,
  );

/** A data folder with the status file of a running agent that has something to say on every row. */
function gateway(): string {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const now = Date.now();
  const ago = (sec: number) => new Date(now - sec * 1000).toISOString();
  writeFileSync(
    join(dataDir, 'status.json'),
    JSON.stringify({
      v: 1,
      writtenAt: ago(2),
      pid: process.pid,
      gatewayId: 'gw-qingshan',
      version: '0.1.0',
      heartbeat: null,
      stopping: false,
      link: {
        state: 'reconnecting',
        up: false,
        lastError: 'connect ECONNREFUSED 10.0.0.1:8883',
        downForSec: 300,
        lastCountyContact: ago(320),
      },
      backlog: { critical: 2, high: 1, normal: 30, low: 4, total: 37, bytes: 9000, oldestAgeSec: 330 },
      alarms: {
        active: [
          {
            deviceId: 'house-7-panic',
            rule: 'panic',
            raisedAt: ago(90),
            message: '7号户按下了报警按钮，老人独居，请村医和值班干部一起去，带上担架和药箱',
          },
        ],
        acknowledged: 0,
      },
      smsPending: 1,
      smsBudget: { alarmsUsed: 1, alarmsLeft: 19, flowsUsed: 0, flowShare: 5, keptForAlarms: 15 },
      lostAlarms: { total: 2, lastSeqs: [120, 121], lastAt: ago(60) },
      devices: [
        { id: 'panel', online: true, lastSeenMs: now - 1000, errors: 0, downReason: null },
        {
          id: 'storehouse-io',
          online: false,
          lastSeenMs: now - 400_000,
          errors: 12,
          downReason: 'unit 1 did not answer within 300 ms',
        },
      ],
      storageLost: null,
      flowNodesOff: { total: 2, types: ['exec', 'tcp request'], flows: ['夜间巡查', 'Flow 2'] },
    }),
  );
  const file = join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    `version: 1\ngateway: { id: gw-qingshan }\ndataDir: ${dataDir}\nmqtt: { url: 'mqtt://127.0.0.1:1883' }\n`,
  );
  return file;
}

/** The CLI with only the given locale variables (none of the machine's). */
function status(file: string, locale: Record<string, string>, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, VILLAGE_GATEWAY_CONFIG: file };
  for (const k of ['LANG', 'LC_ALL', 'LC_MESSAGES', 'LANGUAGE']) delete env[k];
  const r = spawnSync(process.execPath, [CLI, 'status', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...env, ...locale },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trimEnd();
}

const fitsForty = (out: string) => {
  for (const line of out.split('\n')) expect(columns(line), line).toBeLessThanOrEqual(40);
};

describe('village-gateway status in Chinese', () => {
  it('--lang zh-CN: Chinese labels and words, every line within 40 columns counting Chinese as two', () => {
    const file = gateway();
    const out = status(file, { LANG: 'C.UTF-8' }, '--lang', 'zh-CN');
    fitsForty(out);
    const lines = out.split('\n');
    expect(lines[0]).toBe('gw-qingshan v0.1.0');
    expect(lines).toContain(`程序     运行中，pid ${process.pid}`); // 程序 is 4 columns, padded to 9
    expect(out).toMatch(/^更新 {5}\d+ 秒前$/m);
    expect(lines).toContain('链路     断开 5 分钟！');
    expect(lines).toContain('  connect ECONNREFUSED 10.0.0.1:8883');
    expect(out).toMatch(/^县平台 {3}上次联系 5 分钟前$/m);
    expect(lines).toContain('积压     37 条等待');
    expect(lines).toContain('  紧急 2 高 1 普通 30 低 4');
    expect(lines).toContain('最早     已等 6 分钟');
    expect(lines).toContain('报警     1 个未处理！');
    const alarm = lines.findIndex((l) => /^ {2}house-7-panic 9\d 秒前$/.test(l));
    expect(alarm).toBeGreaterThan(0);
    // The message is cut at 40 columns (4 spaces, 7, 18 Chinese characters: 39 columns, and "~"), never mid-character.
    const message = lines[alarm + 1]!;
    expect(message).toBe('    7号户按下了报警按钮，老人独居，请村~');
    expect(columns(message)).toBe(40);
    expect(lines).toContain('短信     1 条待发');
    expect(lines).toContain('短信/时  报警已发 1，剩 19');
    expect(lines).toContain('  流程 0/5，保留 15');
    expect(lines).toContain('丢失     2 条报警未保存！');
    expect(out).toMatch(/^ {2}最近 \d+ 秒前，seq 120-121$/m);
    expect(lines).toContain('流程     2 个节点停用！exec,tcp request');
    expect(lines).toContain('  在 夜间巡查, Flow 2');
    expect(lines).toContain('设备     1/2 在线');
    expect(out).toMatch(/^ {2}panel {9}正常 \d+ 秒$/m);
    expect(lines).toContain('  storehouse-io 断开！ 7 分钟 12错');
    expect(lines).toContain('    unit 1 did not answer within 300 ms'); // the driver's own words stay
  });

  it('the locale environment chooses too: LC_ALL over LANG; --lang en over both', () => {
    const file = gateway();
    // Runs a second apart may say "91 s" where the first said "90 s": the words are what is compared.
    const words = (out: string) => out.replace(/\d+/g, '#');
    const english = words(status(file, { LANG: 'C.UTF-8' }));
    expect(english).toMatch(/^agent {4}running, pid #$/m);
    expect(english).toMatch(/^alarms {3}# ACTIVE$/m);
    expect(english).toMatch(/^ {4}#号户按下了报警按钮，老人独居，请村~$/m); // cut by columns in English too
    fitsForty(english);
    const chinese = words(status(file, { LANG: 'zh_CN.UTF-8' }));
    expect(chinese).toMatch(/^程序 {5}运行中，pid #$/m);
    expect(chinese).toBe(words(status(file, { LANG: 'C.UTF-8' }, '--lang', 'zh-CN')));
    expect(words(status(file, { LANG: 'en_US.UTF-8', LC_ALL: 'zh_CN.UTF-8' }))).toBe(chinese);
    expect(words(status(file, { LANG: 'zh_CN.UTF-8', LC_ALL: 'en_US.UTF-8' }))).toBe(english);
    expect(words(status(file, { LANG: 'zh_CN.UTF-8' }, '--lang', 'en'))).toBe(english);
    expect(words(status(file, { LANG: 'zh_TW.UTF-8' }))).toBe(english); // Traditional Chinese: not this catalogue
  });

  it('--json is language-free: the same data whatever --lang or LANG say', () => {
    const file = gateway();
    const strip = (json: string) => {
      const r = JSON.parse(json) as { agent: { updatedAgoSec: number } };
      r.agent.updatedAgoSec = 0; // a second may pass between the runs
      return r;
    };
    const en = strip(status(file, { LANG: 'C.UTF-8' }, '--json'));
    expect(strip(status(file, { LANG: 'zh_CN.UTF-8' }, '--json'))).toEqual(en);
    expect(strip(status(file, { LANG: 'C.UTF-8' }, '--json', '--lang', 'zh-CN'))).toEqual(en);
    expect(JSON.stringify(en)).not.toMatch(/程序|运行中|链路|积压|在线/); // (the alert's message and a flow's name are data)
  });

  it('an unknown --lang is a usage error naming the languages', () => {
    const r = spawnSync(process.execPath, [CLI, 'status', '--config', gateway(), '--lang', 'fr'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--lang must be en or zh-CN (got fr)');
  });
});
