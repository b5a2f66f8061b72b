/**
 * Hostile config files against the CLI as shipped (its launcher's V8 flags: a 64 MB heap):
 * each is refused before the agent starts, with exit 2 and a message naming the problem,
 * never a stack trace (exit 1) or an out-of-memory abort (134).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lexer } from 'yaml';
import { YAML_LIMITS } from '../../config/safe-yaml.js';
import { CLI } from '../helpers/agent-child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

/** The flags on the CLI's `#!/usr/bin/env -S node ...` line, so the heap is the gateway's. */
const LAUNCHER_FLAGS = readFileSync(CLI, 'utf8')
  .split('\n')[0]!
  .split(/\s+/)
  .filter((a) => a.startsWith('--'));

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [...LAUNCHER_FLAGS, CLI, ...args], { encoding: 'utf8', timeout: 20_000 });

const HEAD = (dir: string) =>
  `version: 1\ngateway: { id: gw }\ndataDir: ${join(dir, 'data')}\nmqtt: { url: "mqtt://127.0.0.1:1" }\n`;

function write(dir: string, text: string | Buffer, name = 'gateway.yaml'): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/**
 * check-config and run both refuse with exit 2 (or check-config alone, to spare two shared cores); run creates
 * nothing.
 */
function expectRefused(dir: string, file: string, message: string | RegExp, alsoRun = true): void {
  expect(LAUNCHER_FLAGS).toContain('--max-old-space-size=64');
  const runs = [['check-config', file], ...(alsoRun ? [['run', '--config', file]] : [])];
  for (const args of runs) {
    const r = cli(...args);
    expect({ args, status: r.status, signal: r.signal }).toEqual({ args, status: 2, signal: null });
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    if (typeof message === 'string') expect(r.stderr).toContain(message);
    else expect(r.stderr).toMatch(message);
  }
  expect(existsSync(join(dir, 'data')), 'nothing started').toBe(false);
}

describe('configs refused at the door (exit 2, under the launcher heap)', () => {
  it('a 50 MB config: refused by its size before it is read, not a V8 out-of-memory abort', () => {
    const dir = tempDir();
    const line = `# ${'padding '.repeat(12)}\n`;
    const f = write(dir, Buffer.from(HEAD(dir) + line.repeat(Math.ceil((50 * 1024 * 1024) / line.length))));
    expectRefused(dir, f, /^ {2}file too large: 5\d{7} bytes \(at most 262144, 256 KiB\)$/m);
  });

  it('a YAML alias bomb ("billion laughs"): refused, not a stack trace', () => {
    const dir = tempDir();
    const levels = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++)
      levels.push(
        `lol${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    const f = write(dir, `${HEAD(dir)}${levels.join('\n')}\n`);
    expectRefused(dir, f, 'syntax: aliases (*name) expand to more than 100 copies; refused');
  });

  it('an unresolved alias: a syntax problem, not a stack trace', () => {
    const dir = tempDir();
    expectRefused(
      dir,
      write(dir, `${HEAD(dir)}health: *nowhere\n`),
      'syntax: Unresolved alias (the anchor must be set before the alias): nowhere',
    );
  });

  it('240 KB of tokens or of nesting (under the size limit): refused before parsing, not an abort', () => {
    const dir = tempDir();
    expectRefused(
      dir,
      write(dir, `${HEAD(dir)}x: [${'1,'.repeat(120_000)}1]\n`),
      'too complex: over 50000 YAML tokens',
    );
    const deep = tempDir();
    expectRefused(
      deep,
      write(deep, `${HEAD(deep)}x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`),
      'nested too deep: over 64 levels of [ ] or { }',
    );
  });

  it('a config just inside the limits is parsed under the same heap (the limits leave room)', () => {
    const dir = tempDir();
    // The costliest shape per token we measured (a flat flow list), at the token limit: parsed, then refused by
    // the schema.
    const r = cli('check-config', write(dir, `${HEAD(dir)}x: [${'1,'.repeat(16_000)}1]\n`));
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({
      status: 2,
      signal: null,
      stderr: expect.stringContaining('  x: unknown key (check the spelling)'),
    });
    // A valid config of 808 devices (over 48,000 tokens): accepted.
    const device = (i: number) =>
      `  - { id: d${i}, driver: synthetic, tags: [a, b], rates: { doorPerSec: 0.1, buttonPerSec: 0.01 } }\n`;
    const perDevice = [...new Lexer().lex(`x:\n${device(100)}`)].length - [...new Lexer().lex('x:\n')].length;
    let text = `${HEAD(dir)}devices:\n`;
    for (let i = 100; i < 100 + Math.floor(48_500 / perDevice); i++) text += device(i);
    expect([...new Lexer().lex(text)].length).toBeGreaterThan(48_000);
    expect([...new Lexer().lex(text)].length).toBeLessThan(YAML_LIMITS.maxTokens);
    const ok = cli('check-config', write(dir, text));
    expect({ status: ok.status, signal: ok.signal, stderr: ok.stderr }).toEqual({
      status: 0,
      signal: null,
      stderr: '',
    });
  });

  it('MQTT wildcards in the topic prefix (v/+/x: before, "valid", then every connection dropped)', () => {
    const dir = tempDir();
    for (const prefix of ['v/+/x', 'v/#']) {
      const f = write(
        dir,
        `version: 1\ngateway: { id: gw }\ndataDir: ${join(dir, 'data')}\nmqtt: { url: "mqtt://127.0.0.1:1", topicPrefix: "${prefix}" }\n`,
      );
      expectRefused(
        dir,
        f,
        `  mqtt.topicPrefix: must not contain the MQTT wildcards + or # (they are not allowed in the topics the gateway publishes to) (got "${prefix}")`,
      );
    }
    // Every other naming problem is checked in-process in test/config/mqtt-names.test.ts.
  });

  it('profile: ../../../../etc/passwd is refused by the schema, before any file is read', () => {
    const dir = tempDir();
    const device = (profile: string) =>
      `${HEAD(dir)}buses: [{ id: b, type: modbus-tcp, host: 127.0.0.1 }]\ndevices: [{ id: d, driver: modbus, bus: b, unitId: 1, profile: "${profile}" }]\n`;
    expectRefused(
      dir,
      write(dir, device('../../../../etc/passwd')),
      '  devices[0].profile: must be a profile id such as waveshare-modbus-rtu-relay-d (1-64 lower-case letters, digits and -): the file is profiles/<id>.yaml beside the config, or a built-in one (got "../../../../etc/passwd")',
    );
    // Proof that nothing is opened: a FIFO blocks whoever opens it (before: check-config hung here).
    mkdirSync(join(dir, 'outside'));
    expect(spawnSync('mkfifo', [join(dir, 'outside', 'trap.yaml')]).status).toBe(0);
    expectRefused(dir, write(dir, device('../outside/trap.yaml')), '  devices[0].profile: must be a profile id');
    expectRefused(
      dir,
      write(dir, device(join(dir, 'outside', 'trap.yaml'))),
      '  devices[0].profile: must be a profile id',
    );
  });

  it('a profile file that leads outside profiles/ (a symlink) is refused before it is read', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'profiles'));
    mkdirSync(join(dir, 'outside'));
    expect(spawnSync('mkfifo', [join(dir, 'outside', 'trap')]).status).toBe(0);
    symlinkSync(join(dir, 'outside', 'trap'), join(dir, 'profiles', 'acme-box.yaml'));
    const f = write(
      dir,
      `${HEAD(dir)}buses: [{ id: b, type: modbus-tcp, host: 127.0.0.1 }]\ndevices: [{ id: d, driver: modbus, bus: b, unitId: 1, profile: acme-box }]\n`,
    );
    expectRefused(
      dir,
      f,
      /devices\[0\]\.profile: \S*\/profiles\/acme-box\.yaml: resolves to \S*\/outside\/trap, outside \S*\/profiles; refused/,
    );
  });

  it('a profile file is held to the same limits as a config (an alias bomb in profiles/)', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'profiles'));
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      levels.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    write(join(dir, 'profiles'), `${levels.join('\n')}\n`, 'bomb-box.yaml');
    const f = write(
      dir,
      `${HEAD(dir)}buses: [{ id: b, type: modbus-tcp, host: 127.0.0.1 }]\ndevices: [{ id: d, driver: modbus, bus: b, unitId: 1, profile: bomb-box }]\n`,
    );
    expectRefused(
      dir,
      f,
      /devices\[0\]\.profile: .*\/profiles\/bomb-box\.yaml: syntax: aliases \(\*name\) expand to more than 100 copies/,
    );
  });
});
