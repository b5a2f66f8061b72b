/**
 * Our nodes' text in the technician's language, as Node-RED's own admin API serves it to the
 * editor: the message catalogues (`GET /nodes/messages?lng=`) and the nodes' help (`GET /nodes`
 * as HTML, by `Accept-Language`) come in Chinese for zh-CN and in English by default, and every
 * key of the English catalogue has its Chinese one. A real Node-RED runtime in this process,
 * loading flows/nodes through its registry as the child does (nodesDir), not the test helper
 * (which skips the registry and so the catalogues).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const NODES = fileURLToPath(new URL('../../flows/nodes', import.meta.url));
const LOCALES = join(NODES, 'locales');
const NS = 'node-red-contrib-village';
const SETS = ['village-in', 'village-out', 'village-alert', 'village-status', 'village-snapshot'];
const HAN = /[\u4e00-\u9fff]/;

interface Runtime {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: (req: unknown, res: unknown) => void;
}

/** Every key path of a catalogue ("village-in.label.types"), with its text. */
function leaves(obj: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(path, v);
    else for (const [p, t] of leaves(v, path)) out.set(p, t);
  }
  return out;
}

const catalogue = (lang: string, set: string): unknown =>
  JSON.parse(readFileSync(join(LOCALES, lang, `${set}.json`), 'utf8')) as unknown;

describe('the message catalogues on disk', () => {
  it('one per node file and language, and every English key has a Chinese text', () => {
    const sets = readdirSync(NODES)
      .filter((f) => f.endsWith('.html'))
      .map((f) => f.replace(/\.html$/, ''));
    expect(sets.sort()).toEqual([...SETS].sort());
    for (const set of SETS) {
      const en = leaves(catalogue('en-US', set));
      const zh = leaves(catalogue('zh-CN', set));
      expect([...zh.keys()].sort(), set).toEqual([...en.keys()].sort());
      // Interpolations (__count__) survive the translation.
      for (const [key, text] of en)
        expect((zh.get(key) ?? '').match(/__\w+__/g), `${set}:${key}`).toEqual(text.match(/__\w+__/g));
    }
  });

  it('the node files carry no English label text of their own: their labels are catalogue keys', () => {
    for (const set of SETS) {
      const html = readFileSync(join(NODES, `${set}.html`), 'utf8');
      expect(html, set).not.toMatch(/data-help-name/);
      expect(html, set).not.toMatch(/<\/i>\s*[A-Za-z]/); // a label after its icon
      expect(html, set).not.toMatch(/placeholder="[^"]*\s[^"]*"/); // a phrase; ids like relay1 may stay
      expect(html, set).not.toMatch(/<option value="[a-z]+">/);
      const keys = [...html.matchAll(/data-i18n="(?:\[\w+\])?([\w.-]+)"|this\._\('([\w.-]+)'\)/g)].map(
        (m) => m[1] ?? m[2],
      );
      expect(keys.length, set).toBeGreaterThan(0);
      const en = leaves(catalogue('en-US', set));
      for (const key of keys) expect(en.has(key!), `${set}: ${key}`).toBe(true);
    }
  });

  it("the nodes' fixed status texts are catalogue keys with a text in both languages", () => {
    const files = [...SETS.map((s) => `${s}.js`), ...readdirSync(join(NODES, 'lib')).map((f) => `lib/${f}`)];
    let keys = 0;
    for (const file of files) {
      const js = readFileSync(join(NODES, file), 'utf8');
      // No fixed English status text is left: a fixed text is a key (dynamic ones carry values).
      expect(js, file).not.toMatch(/text: '[^']*\s[^']*'/);
      for (const m of js.matchAll(/'(?:node-red-contrib-village\/([\w-]+):)?([\w-]*\.?status\.\w+)'/g)) {
        const set = m[1] ?? file.replace(/\.js$/, '');
        expect(SETS, `${file}: ${m[0]} names its node set`).toContain(set);
        for (const lang of ['en-US', 'zh-CN'])
          expect(leaves(catalogue(lang, set)).has(m[2]!), `${file}: ${m[0]} in ${lang}`).toBe(true);
        keys++;
      }
    }
    expect(keys).toBe(5); // invalid filter, waiting, no device/output, not connected, invalid input
  });
});

describe('the admin API of a real Node-RED with our nodes', () => {
  const RED = require('node-red') as Runtime;
  const userDir = mkdtempSync(join(tmpdir(), 'vg-i18n-'));
  let server: Server;
  let url = '';

  beforeAll(async () => {
    server = createServer((req, res) => RED.httpAdmin(req, res));
    RED.init(server, {
      userDir,
      flowFile: 'flows.json',
      httpAdminRoot: '/',
      httpNodeRoot: false,
      nodesDir: [NODES],
      logging: { console: { level: 'off' } },
      editorTheme: { projects: { enabled: false }, tours: false },
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: false, ui: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false } },
    });
    await RED.start();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }, 60_000);

  afterAll(async () => {
    await RED.stop();
    await new Promise((r) => server.close(r));
    rmSync(userDir, { recursive: true, force: true });
  });

  const messages = async (lng: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${url}nodes/messages?lng=${lng}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  it('serves the zh-CN catalogues in Chinese, with every key the en-US ones have', async () => {
    const en = await messages('en-US');
    const zh = await messages('zh-CN');
    for (const set of SETS) {
      const enKeys = leaves(en[`${NS}/${set}`]);
      const zhKeys = leaves(zh[`${NS}/${set}`]);
      expect(enKeys.size, set).toBeGreaterThan(0);
      expect([...zhKeys.keys()].sort(), set).toEqual([...enKeys.keys()].sort());
      for (const [key, text] of zhKeys) {
        // Chinese, not the English fallback; the technical words may stay (on, off, msg.payload).
        if (text !== enKeys.get(key)) continue;
        expect(text, `${set}:${key} is only technical words`).toMatch(/^[a-z0-9_.{},:\s]*$/i);
      }
      expect([...zhKeys.values()].filter((t) => HAN.test(t)).length, set).toBeGreaterThan(zhKeys.size / 2);
      expect(
        [...enKeys.values()].some((t) => HAN.test(t)),
        set,
      ).toBe(false);
    }
    expect(leaves(zh[`${NS}/village-in`]).get('village-in.label.types')).toBe('类型');
    expect(leaves(en[`${NS}/village-in`]).get('village-in.label.types')).toBe('Types');
  });

  it("serves each node's help in Chinese for zh-CN and in English by default", async () => {
    const help = async (lang?: string): Promise<string> => {
      const res = await fetch(`${url}nodes`, {
        headers: { accept: 'text/html', ...(lang ? { 'accept-language': lang } : {}) },
      });
      expect(res.status).toBe(200);
      return res.text();
    };
    const byNode = (html: string): Map<string, string> =>
      new Map(
        [...html.matchAll(/<script type="text\/html" data-help-name="(village [a-z]+)">([\s\S]*?)<\/script>/g)].map(
          (m) => [m[1]!, m[2]!],
        ),
      );
    const zh = byNode(await help('zh-CN,zh;q=0.9'));
    const en = byNode(await help());
    expect([...zh.keys()].sort()).toEqual([
      'village alert',
      'village in',
      'village out',
      'village snapshot',
      'village status',
    ]);
    expect([...en.keys()].sort()).toEqual([...zh.keys()].sort());
    for (const [type, text] of zh) {
      expect(text, type).toMatch(HAN);
      expect(en.get(type), type).not.toMatch(HAN);
    }
    expect(zh.get('village in')).toContain('通过本节点的过滤条件');
    expect(en.get('village in')).toContain('Sends a message for every gateway event');
  });
});
