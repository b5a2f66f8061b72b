import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatewayError, failure, foreignCode, isErrorCode, replyCode } from '../../agent/kernel/errors.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of README's "Error codes" table: code -> meaning. */
function readmeCodes(): Map<string, string> {
  const section = README.split('\n### Error codes\n')[1]?.split('\n#')[0] ?? '';
  const rows = [...section.matchAll(/^\| `([A-Z_]+)` +\| (.+) \|$/gm)];
  // A table's padding (prettier aligns the columns) is not part of a meaning.
  return new Map(rows.map((m) => [m[1]!, m[2]!.trimEnd()]));
}

/**
 * Codes that every logged failure now carries (issue 18, item 3) whose rows the docs rewrite
 * (item 4, another branch) adds to the table; their wording is in DOCNOTES of that work. Until
 * then README's rows for them are not compared. Empty this list when the docs land.
 */
const AWAITING_DOCS = new Set([
  'PAYLOAD_INVALID',
  'EVENTS_SHED',
  'ALARM_LOST',
  'DATA_DIR_LOST',
  'STATE_UNREADABLE',
  'STATE_NOT_SAVED',
  'LISTENER_FAILED',
  'OUTPUT_FAILED',
  'SERIAL_ERROR',
  'SERIAL_GARBAGE',
  'DEVICE_SILENT',
  'SMS_NOT_QUEUED',
  'NO_SMS_NUMBERS',
  'PUBLISH_FAILED',
  'SUBSCRIBE_FAILED',
  'UNCAUGHT',
  'STOP_FAILED',
  'EVENT_LOOP_BLOCKED',
  'WATCHDOG_WITHHELD',
  'NOTIFY_FAILED',
  'NODE_RED_FAILED',
  'NODE_RED_LOG',
  'NODES_EXCLUDED',
  'FLOWS_USER',
  'LOGIN_FAILED',
  'TECHNICIAN_REQUEST_FAILED',
  'NOT_IN_SAFE_MODE',
  'EVENT_INVALID', // reworded: a payload that does not match is no longer kept (PAYLOAD_INVALID)
]);

describe('one error model', () => {
  it("README's error table is the list in agent/kernel/errors.ts, code for code and word for word", () => {
    const settled = (rows: [string, string][]) => Object.fromEntries(rows.filter(([code]) => !AWAITING_DOCS.has(code)));
    expect(settled([...readmeCodes()])).toEqual(settled(Object.entries(ERROR_CODES)));
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
