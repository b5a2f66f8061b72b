/** The villages tool's parts that need no broker: the wave cut, RFC 7386 merge patches, and its refusals of bad input. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../scripts/county/villages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { mergePatch } from '../../scripts/county/merge-patch.js';
import { planWaves } from '../../scripts/county/villages-waves.js';

const tempDir = useTempDirs();
const ids = (n: number) => Array.from({ length: n }, (_, i) => `gw-${i + 1}`);

describe('planWaves', () => {
  it('cuts one canary, then a tenth (at least one), then the rest', () => {
    expect(planWaves([])).toEqual([]);
    expect(planWaves(ids(1))).toEqual([['gw-1']]);
    expect(planWaves(ids(2))).toEqual([['gw-1'], ['gw-2']]);
    expect(planWaves(ids(3))).toEqual([['gw-1'], ['gw-2'], ['gw-3']]);
    const big = planWaves(ids(101));
    expect(big.map((w) => w.length)).toEqual([1, 11, 89]);
    expect(big.flat()).toEqual(ids(101)); // every gateway once, in the order given
  });
});

describe('mergePatch (RFC 7386)', () => {
  it('follows the RFC appendix examples', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'd'],
      ],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) expect(mergePatch(target, patch)).toEqual(result);
  });

  it('leaves the target as it was', () => {
    const target = { rules: [{ id: 'r1' }], mqtt: { url: 'mqtt://x' } };
    mergePatch(target, { mqtt: { url: 'mqtt://y' }, rules: null });
    expect(target).toEqual({ rules: [{ id: 'r1' }], mqtt: { url: 'mqtt://x' } });
  });
});

describe('villages refuses bad input before it sends anything', () => {
  /** Nothing listens on port 1: a run that got as far as the broker would fail otherwise. */
  const run = (...args: string[]) => main([...args, '--url', 'mqtt://127.0.0.1:1'], () => undefined);
  const file = (name: string, text: string) => {
    const f = join(tempDir(), name);
    writeFileSync(f, text);
    return f;
  };

  it('names what is wrong, with the USAGE code', async () => {
    const patch = file('p.json', '{"health": {"intervalSec": 60}}');
    const groups = file('g.yaml', 'groups:\n  north: [gw-1, gw-2]\n');
    const cases: [string[], RegExp][] = [
      [['deploy'], /list, apply-config, apply-update/],
      [['apply-config', '--patch', patch], /needs --gateways or --group/],
      [['apply-config', '--gateways', 'a'], /exactly one of --patch or --file/],
      [['apply-config', '--gateways', 'a', '--patch', patch, '--file', patch], /exactly one of --patch or --file/],
      [['apply-config', '--gateways', 'a', '--patch', file('arr.json', '[1]')], /a merge patch is a JSON object/],
      [['apply-config', '--gateways', 'a', '--patch', file('bad.json', '{"a": ')], /--patch .*bad\.json/],
      [['list', '--group', 'north'], /--group needs --groups FILE/],
      [['list', '--group', 'south', '--groups', groups], /no group south in .* \(it has north\)/],
      [['list', '--groups', file('g2.yaml', 'groups: {north: []}'), '--group', 'north'], /groups\.north/],
      [['list', '--gateways', 'a', '--group', 'north'], /not both/],
      [['list', '--timeout', '0'], /--timeout must be a number/],
      [['list', '--mqtt-version', '3'], /--mqtt-version is 4 or 5/],
      [['apply-config', '--gateways', 'a', '--patch', patch, '--probation', '1.5'], /whole seconds/],
      [['list', '--password-file', '/nonexistent/pw'], /--password-file \/nonexistent\/pw: .*ENOENT/],
      [['list', '--state', file('state.json', '{"v": 2}')], /state\.json/],
      [
        ['apply-update', '--gateways', 'a', '--version', '1.0.1'],
        /needs --bundle-url URL \(or --mqtt\) and --version X/,
      ],
      [
        ['apply-update', '--gateways', 'a', '--bundle-url', 'http://h/b/'],
        /needs --bundle-url URL \(or --mqtt\) and --version X/,
      ],
      [
        ['apply-update', '--gateways', 'a', '--mqtt', '--bundle-url', 'http://h/b/', '--version', '1'],
        /--bundle-url URL or --mqtt, not both/,
      ],
      [['apply-update', '--gateways', 'a', '--mqtt'], /apply-update --mqtt needs --version X/],
      [['apply-update', '--gateways', 'a', '--mqtt', '--version', '1 0'], /apply-update --mqtt needs --version X/],
      [['apply-update', '--bundle-url', 'http://h/b/', '--version', '1.0.1'], /apply-update needs --gateways/],
      [['apply-update', '--gateways', 'a', '--bundle-url', 'ftp://h/b/', '--version', '1'], /--bundle-url: /],
      [['apply-update', '--gateways', 'a', '--bundle-url', 'http://h/b/', '--version', '1 0'], /--version: /],
      [
        ['apply-update', '--gateways', 'a', '--bundle-url', 'http://h/', '--version', '1', '--timeout', 'x'],
        /--timeout/,
      ],
    ];
    for (const [args, message] of cases) {
      const err = await run(...args).then(
        () => null,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err, args.join(' ')).not.toBeNull();
      expect(err!.message, args.join(' ')).toMatch(message);
      expect(['USAGE', 'STATE_UNREADABLE'], args.join(' ')).toContain(err!.code);
    }
  });
});
