/**
 * The docs' examples, run or checked against the code on this machine: README.md and every page
 * under docs/. A page that shows a command, an option line, a config key, a profile or an error
 * code the code does not have fails here, and so does a relative link to a file that is gone.
 * The CLI runs from dist/ (`npm test` builds it first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { uplinkTopics } from '../../agent/uplink/uplink.js';
import { EVENT_TYPES } from '../../core/contracts/events/catalogue.js';
import { ERROR_CODES } from '../../core/kernel/errors.js';
import { CLI } from '../helpers/agent-child.js';
import { readPage, section, tableRows } from '../helpers/doc-tables.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tempDir = useTempDirs();
const PAGES = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const TECHNICIAN_PAGES = PAGES.filter((p) => p.startsWith('docs/technician'));
const BASES = ['config/gateway.example.yaml', 'config/demo.yaml'];

type Schema = Record<string, unknown>;
const CONFIG_SCHEMA = JSON.parse(
  readFileSync(join(root, 'config/schemas/gateway-config.schema.json'), 'utf8'),
) as Schema;
const TOP_KEYS = Object.keys(CONFIG_SCHEMA.properties as Schema).filter((k) => k !== '$schema');

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** Inline code spans outside fenced blocks, and the fenced blocks with their language. */
function codeOf(page: string): { spans: string[]; blocks: { lang: string; text: string }[] } {
  const blocks = [...page.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
  const prose = page.replace(/^```\w*\n[\s\S]*?^```$/gm, '');
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return { spans, blocks };
}

/** The usage lines of `village-gateway --help`: one synopsis per command. */
function helpSynopses(): string[] {
  const r = cli('--help');
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .map((l) => /^ {2}(village-gateway \S.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && !l.startsWith('village-gateway --'));
}

/** A synopsis's command words: `village-gateway editor safe-mode off --config FILE` -> `editor safe-mode off`. */
const commandWords = (synopsis: string) =>
  synopsis
    .split(' ')
    .slice(1)
    .filter((_, i, all) => all.slice(0, i + 1).every((w) => /^[a-z][a-z-]*$/.test(w)))
    .join(' ');

/** Whether a dotted config path (`mqtt.alarmRetry.ackTimeoutMs`, `nodeRed.users[0].password`) is in the schema. */
function schemaHas(schema: Schema, path: string[]): boolean {
  if (path.length === 0) return true;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[key] as Schema[] | undefined;
    if (branches?.some((b) => schemaHas(b, path))) return true;
  }
  if (schema.items && schemaHas(schema.items as Schema, path)) return true;
  const [head, ...rest] = path as [string, ...string[]];
  const props = schema.properties as Record<string, Schema> | undefined;
  if (props && Object.hasOwn(props, head)) return schemaHas(props[head]!, rest);
  const extra = schema.additionalProperties;
  return typeof extra === 'object' && extra !== null && schemaHas(extra as Schema, rest);
}

/** Objects merge key by key; lists of items with ids merge by id (an item with a new id is added). */
function merge(base: unknown, over: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(over)) {
    const out = [...(base as Schema[])];
    for (const item of over as Schema[]) {
      const at = out.findIndex((b) => typeof b === 'object' && b !== null && b.id !== undefined && b.id === item?.id);
      if (at >= 0) out[at] = merge(out[at], item) as Schema;
      else out.push(item);
    }
    return out;
  }
  if (typeof base === 'object' && base !== null && typeof over === 'object' && over !== null && !Array.isArray(over)) {
    const out: Schema = { ...(base as Schema) };
    for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return over;
}

const yamlBlocks = PAGES.flatMap((page) =>
  codeOf(readPage(page))
    .blocks.filter((b) => b.lang === 'yaml')
    .map((b, i) => ({ page, i, text: b.text, value: parse(b.text) as Schema })),
);
const isProfile = (v: Schema) => 'transport' in v && 'id' in v && !('devices' in v);
const isWholeConfig = (v: Schema) => 'gateway' in v && 'mqtt' in v && 'version' in v;

/** A config folder with every profile the pages show, as a technician would put them beside the config. */
function folderWithProfiles(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'profiles'));
  for (const b of yamlBlocks.filter((b) => isProfile(b.value)))
    writeFileSync(join(dir, 'profiles', `${String(b.value.id)}.yaml`), b.text);
  return dir;
}

function checkConfig(dir: string, config: unknown): { ok: boolean; output: string } {
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(config));
  const r = cli('check-config', '--schema-only', file);
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

describe("the docs' examples", () => {
  it('every relative link points at a file that exists, and every #anchor at a heading of its page', () => {
    const slug = (h: string) =>
      h
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const bad: string[] = [];
    for (const page of PAGES) {
      const text = readPage(page);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [file, anchor] = target!.split('#') as [string, string | undefined];
        const abs = file === '' ? join(root, page) : resolve(dirname(join(root, page)), file);
        if (!existsSync(abs)) bad.push(`${page}: ${target} (no such file)`);
        else if (anchor !== undefined && abs.endsWith('.md')) {
          const headings = [...readFileSync(abs, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
          if (!headings.includes(anchor)) bad.push(`${page}: ${target} (no such heading)`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("the technician's command table is `village-gateway --help`, synopsis for synopsis, both ways", () => {
    const help = helpSynopses();
    expect(help.length).toBeGreaterThan(5);
    for (const page of TECHNICIAN_PAGES) {
      const rows = tableRows(readPage(page)).map((r) => r[0]!.replace(/^`(.*)`$/, '$1'));
      expect({ page, commands: rows.filter((c) => c.startsWith('village-gateway ')).sort() }).toEqual({
        page,
        commands: [...help].sort(),
      });
    }
  });

  it('every `village-gateway ...` a page shows is a command of the CLI', () => {
    const names = helpSynopses().map(commandWords);
    const bad: string[] = [];
    for (const page of PAGES) {
      const { spans, blocks } = codeOf(readPage(page));
      for (const text of [...spans, ...blocks.map((b) => b.text)])
        for (const m of text.matchAll(/(?<![\w/-])village-gateway ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)/g)) {
          const words = m[1]!;
          if (!names.some((n) => words === n || words.startsWith(`${n} `)))
            bad.push(`${page}: village-gateway ${words}`);
        }
    }
    expect(bad).toEqual([]);
  });

  it('every `npm run X` a page shows is a script of package.json, every `node dist/...` a built file', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Schema }).scripts;
    const bad: string[] = [];
    for (const page of PAGES) {
      const { spans, blocks } = codeOf(readPage(page));
      for (const text of [...spans, ...blocks.map((b) => b.text)]) {
        for (const m of text.matchAll(/npm run ([\w:-]+)/g))
          if (!(m[1]! in scripts)) bad.push(`${page}: npm run ${m[1]}`);
        for (const m of text.matchAll(/node (dist\/\S+\.js)/g))
          if (!existsSync(join(root, m[1]!))) bad.push(`${page}: node ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("install.sh's synopsis on the technician's pages is the script's own usage line", () => {
    const usage = /^# Usage: (scripts\/install\.sh .*)$/m.exec(
      readFileSync(join(root, 'scripts/install.sh'), 'utf8'),
    )?.[1];
    expect(usage).toBeDefined();
    for (const page of TECHNICIAN_PAGES) {
      const shown = codeOf(readPage(page)).spans.filter((s) => s.startsWith('scripts/install.sh ['));
      expect({ page, shown }).toEqual({ page, shown: [usage] });
    }
  });

  it('every dotted config key a page names in its text is a key of the config schema', () => {
    const top = new RegExp(`^(${TOP_KEYS.join('|')})((\\.[A-Za-z][A-Za-z0-9]*)|(\\[\\d+\\]))+$`);
    const events = new Set<string>(EVENT_TYPES);
    const bad: string[] = [];
    let checked = 0;
    // development.md names benchmarks (`mqtt.raw`) and library calls, not keys a reader sets.
    for (const page of PAGES.filter((p) => p !== 'docs/development.md'))
      for (const span of codeOf(readPage(page)).spans) {
        // A file name (alarms.json) or an event type (gateway.started) is not a key.
        if (!top.test(span) || events.has(span) || /\.(json|yaml|bak|bin|lock|sock)$/.test(span)) continue;
        checked++;
        if (!schemaHas(CONFIG_SCHEMA, span.replace(/\[\d+\]/g, '').split('.'))) bad.push(`${page}: ${span}`);
      }
    expect(checked).toBeGreaterThan(20);
    expect(bad).toEqual([]);
  });

  it('the shipped configs pass check-config, as the quick start says (--schema-only: their secrets live on a gateway)', () => {
    for (const base of BASES) {
      const r = cli('check-config', '--schema-only', join(root, base));
      expect({ base, status: r.status, out: r.stdout + r.stderr }).toMatchObject({ base, status: 0 });
    }
  });

  it("every YAML config snippet is a config's keys: whole configs pass check-config alone, parts merged into a shipped config", () => {
    const configs = yamlBlocks.filter((b) => !isProfile(b.value));
    expect(configs.length).toBeGreaterThan(3);
    const bases = BASES.map((b) => parse(readFileSync(join(root, b), 'utf8')) as Schema);
    const bad: string[] = [];
    const seen = new Set<string>(); // the translated page shows the same snippets (its comments aside)
    for (const b of configs) {
      const key = JSON.stringify(b.value);
      if (seen.has(key)) continue;
      seen.add(key);
      const unknown = Object.keys(b.value).filter((k) => !TOP_KEYS.includes(k));
      if (unknown.length > 0) {
        bad.push(`${b.page} yaml block ${b.i}: not config keys: ${unknown.join(', ')}`);
        continue;
      }
      const dir = folderWithProfiles();
      const candidates = isWholeConfig(b.value) ? [b.value] : bases.map((base) => merge(base, b.value));
      const outputs: string[] = [];
      for (const c of candidates) {
        const r = checkConfig(dir, c);
        if (r.ok) break; // fits a shipped config
        outputs.push(r.output);
      }
      if (outputs.length === candidates.length) bad.push(`${b.page} yaml block ${b.i}:\n${outputs.join('\n')}`);
    }
    expect(bad).toEqual([]);
  }, 120_000);

  it("the technician's profile table names every built-in profile, and no other", () => {
    const builtIn = readdirSync(join(root, 'config/profiles'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
    for (const page of TECHNICIAN_PAGES) {
      // The page's tables, each a run of table lines; the profile table is the one naming a built-in profile.
      const tables = readPage(page)
        .split(/\n(?!\|)[^\n]*\n/)
        .map(tableRows);
      const ids = (tables.find((t) => t.some((r) => builtIn.some((id) => r[0]!.includes(`\`${id}\``)))) ?? [])
        .slice(1)
        .flatMap((r) => [...r[0]!.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!));
      expect({ page, ids: ids.sort() }).toEqual({ page, ids: builtIn });
    }
  });

  it('every error code the technician pages list is a code of core/kernel/errors.ts', () => {
    for (const page of TECHNICIAN_PAGES) {
      const lastSection = readPage(page).split(/\n## /).at(-1)!;
      const codes = [...lastSection.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!);
      expect(codes.length).toBeGreaterThan(20);
      expect({ page, unknown: codes.filter((c) => !Object.hasOwn(ERROR_CODES, c)) }).toEqual({ page, unknown: [] });
    }
  });

  it('the README points each reader at a page of their own and stays a front door (at most 250 lines)', () => {
    const readme = readPage('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const page of ['docs/technician.md', 'docs/county.md', 'docs/development.md'])
      expect(section(readme, '## Where to go next')).toContain(`](${page})`);
  });

  it("the example config's topics are the ones docs/county.md tells a county to subscribe to", () => {
    const example = gatewayConfigSchema.parse(parse(readFileSync(join(root, 'config/gateway.example.yaml'), 'utf8')));
    const { prefix } = uplinkTopics(example.mqtt, example.gateway.id);
    const county = readPage('docs/county.md');
    const filters = [...new Set(county.match(/village\/\+\/[a-z/#+-]*[a-z#+]/g) ?? [])];
    expect(filters.length).toBeGreaterThan(1);
    // An MQTT filter's + is one level, # the rest; every filter the page gives matches this gateway's own topic.
    const matches = (filter: string, topic: string) =>
      new RegExp(`^${filter.replace(/\+/g, '[^/]+').replace(/\/#$/, '(/.*)?')}$`).test(topic);
    for (const filter of filters) {
      const sub = filter.split('/').slice(2).join('/').replace(/[+#]/g, 'x');
      expect(matches(filter, `${prefix}/${sub}`), `${filter} against ${prefix}/${sub}`).toBe(true);
    }
  });
});
