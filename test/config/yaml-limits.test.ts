/** The limits safe-yaml.ts puts on a config or profile file, at their edges. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/load-config.js';
import { checkComplexity, parseYamlText, readBounded, readYamlFile, YAML_LIMITS } from '../../config/safe-yaml.js';
import { Lexer } from 'yaml';
import { useTempDirs } from '../helpers/temp-dir.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tempDir = useTempDirs();
const tokens = (text: string) => [...new Lexer().lex(text)].length;

describe('YAML limits', () => {
  it('leave the shipped configs and profiles far inside them', () => {
    const files = [
      join(root, 'config/demo.yaml'),
      join(root, 'config/gateway.example.yaml'),
      ...readdirSync(join(root, 'config/profiles')).map((f) => join(root, 'config/profiles', f)),
    ];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text.length, f).toBeLessThan(YAML_LIMITS.maxBytes / 20);
      expect(tokens(text), f).toBeLessThan(YAML_LIMITS.maxTokens / 20);
      expect(readYamlFile(f).ok, f).toBe(true);
    }
  });

  it('accept ordinary anchors and aliases', () => {
    const r = parseYamlText(
      'base: &rates { doorPerSec: 1 }\ndevices:\n  - { id: a, rates: *rates }\n  - { id: b, rates: *rates }\n',
    );
    expect(r).toMatchObject({
      ok: true,
      value: {
        devices: [
          { id: 'a', rates: { doorPerSec: 1 } },
          { id: 'b', rates: { doorPerSec: 1 } },
        ],
      },
    });
  });

  it('refuse more than 100 copies of an anchored node (the anchor and 99 aliases pass)', () => {
    const ok = `a: &a [1]\nb: [${Array(99).fill('*a').join(', ')}]\n`;
    expect(parseYamlText(ok).ok).toBe(true);
    const over = `a: &a [1]\nb: [${Array(100).fill('*a').join(', ')}]\n`;
    expect(parseYamlText(over)).toEqual({
      ok: false,
      problems: [
        {
          path: '',
          message:
            'syntax: aliases (*name) expand to more than 100 copies; refused (a "billion laughs" file would exhaust memory)',
        },
      ],
    });
  });

  it('refuse flow nesting deeper than 64, and more than 50,000 tokens', () => {
    expect(checkComplexity(`x: ${'['.repeat(64)}${']'.repeat(64)}`)).toBeNull();
    expect(checkComplexity(`x: ${'['.repeat(65)}${']'.repeat(65)}`)).toBe(
      'nested too deep: over 64 levels of [ ] or { }',
    );
    expect(checkComplexity(`x: ${'{a: '.repeat(65)}1${'}'.repeat(65)}`)).toBe(
      'nested too deep: over 64 levels of [ ] or { }',
    );
    // Brackets inside quoted strings and comments are text, not nesting.
    expect(checkComplexity(`x: "${'['.repeat(500)}" # ${'{'.repeat(500)}\n`)).toBeNull();
    // 16,664 items and two newlines are exactly 50,000 lexer tokens; one newline more is over.
    const atLimit = `x: [${Array(16_664).fill('1').join(',')}]\n\n`;
    expect(tokens(atLimit)).toBe(YAML_LIMITS.maxTokens);
    expect(checkComplexity(atLimit)).toBeNull();
    expect(checkComplexity(`${atLimit}\n`)).toBe(
      'too complex: over 50000 YAML tokens (keys, values, punctuation; the demo config has about 1,000)',
    );
  });

  it('read at most the size limit, whatever the file is', () => {
    const dir = tempDir();
    const at = join(dir, 'at.yaml');
    writeFileSync(at, `# ${'x'.repeat(YAML_LIMITS.maxBytes - 3)}\n`);
    expect(readBounded(at)).toMatchObject({ ok: true });
    writeFileSync(at, `# ${'x'.repeat(YAML_LIMITS.maxBytes - 2)}\n`);
    expect(readBounded(at)).toEqual({ ok: false, message: 'file too large: 262145 bytes (at most 262144, 256 KiB)' });
    expect(readBounded('/dev/zero')).toEqual({ ok: false, message: 'file too large: over 262144 bytes (256 KiB)' });
    mkdirSync(join(dir, 'sub'));
    expect(readBounded(join(dir, 'sub'))).toEqual({
      ok: false,
      message: `cannot read: ${join(dir, 'sub')} is a directory`,
    });
    expect(readBounded(join(dir, 'nope.yaml'))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^cannot read: ENOENT/),
    });
  });

  it('parseYamlText bounds text it is handed, too', () => {
    expect(parseYamlText(`# ${'x'.repeat(YAML_LIMITS.maxBytes)}\n`)).toMatchObject({
      ok: false,
      problems: [{ message: expect.stringMatching(/^file too large: 262147 bytes/) }],
    });
  });

  it('loadConfig with schemaOnly (check-config --schema-only) reads within the same limits and skips secrets and certificate files', () => {
    // The example names certificate files that exist only on a real gateway.
    expect(() => loadConfig(join(root, 'config/gateway.example.yaml'))).toThrow(ConfigError);
    expect(loadConfig(join(root, 'config/gateway.example.yaml'), { schemaOnly: true }).config.gateway.id).toBeTruthy();
    const dir = tempDir();
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `version: 1\n# ${'x'.repeat(YAML_LIMITS.maxBytes)}\n`);
    expect(() => loadConfig(big, { schemaOnly: true })).toThrow(/file too large: 262158 bytes/);
  });
});
