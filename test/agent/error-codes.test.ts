import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatewayError, failure, foreignCode, isErrorCode, replyCode } from '../../core/kernel/errors.js';
import { readPage, section, tableRows } from '../helpers/doc-tables.js';

/** The rows of docs/county.md's "Error codes" table: code -> meaning (the header row left out). */
function documentedCodes(): [string, string][] {
  const rows = tableRows(section(readPage('docs/county.md'), '### Error codes')).slice(1);
  return rows.map(([code, meaning]) => [code!.replace(/^`(.*)`$/, '$1'), meaning!]);
}

describe('one error model', () => {
  it("docs/county.md's error table is the list in core/kernel/errors.ts, code for code and word for word", () => {
    const rows = documentedCodes();
    expect(Object.fromEntries(rows)).toEqual({ ...ERROR_CODES });
    expect(rows).toHaveLength(Object.keys(ERROR_CODES).length); // no code twice
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

describe('failure(): the fields of every warn and error line', () => {
  it("names the code, the GatewayError's own first, and the error as its message, bounded", () => {
    const own = new GatewayError('BUS_DOWN', 'bus tcp is not connected');
    expect(failure('OUTPUT_FAILED', own, { output: 'siren' })).toEqual({
      code: 'BUS_DOWN',
      err: 'bus tcp is not connected',
      output: 'siren',
    });
    expect(failure('STATE_NOT_SAVED', new Error('x'.repeat(5000))).err).toHaveLength(1000);
    expect(failure('TIMEOUT', null, { limitMs: 3000 })).toEqual({ code: 'TIMEOUT', limitMs: 3000 });
    expect(failure('SERIAL_ERROR', 'port gone')).toEqual({ code: 'SERIAL_ERROR', err: 'port gone' });
  });
});
