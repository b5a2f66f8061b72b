/** The villages tool's pure parts: how a group is cut into waves, and RFC 7386 merge patches. */
import { describe, expect, it } from 'vitest';
import { mergePatch } from '../../scripts/county/merge-patch.js';
import { planWaves } from '../../scripts/county/villages-waves.js';

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
