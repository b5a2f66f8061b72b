import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatewayError, foreignCode, isErrorCode, replyCode } from '../../agent/kernel/errors.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of README's "Error codes" table: code -> meaning. */
function readmeCodes(): Map<string, string> {
  const section = README.split('\n### Error codes\n')[1]?.split('\n#')[0] ?? '';
  const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (.+) \|$/gm)];
  return new Map(rows.map((m) => [m[1]!, m[2]!]));
}

describe('one error model', () => {
  it("README's error table is the list in agent/kernel/errors.ts, code for code and word for word", () => {
    expect(Object.fromEntries(readmeCodes())).toEqual({ ...ERROR_CODES });
  });

  it('a GatewayError keeps its code, cause, retryable and detail; others are FAILED in replies', () => {
    const cause = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
    const e = new GatewayError('SMS_ERROR', 'no network service', { cause, retryable: true, detail: { cms: 331 } });
    expect(e).toMatchObject({ code: 'SMS_ERROR', retryable: true, detail: { cms: 331 }, cause });
    expect(replyCode(e)).toBe('SMS_ERROR');
    expect(replyCode(cause)).toBe('FAILED');
    expect(foreignCode(cause)).toBe('SQLITE_IOERR_WRITE');
    expect(foreignCode('a string')).toBeUndefined();
    expect(isErrorCode('SMS_ERROR')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});
