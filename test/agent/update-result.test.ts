/**
 * The result file the root-side update step leaves for the agent (agent/update-result.ts): read
 * once into the event the county gets, an unreadable one kept aside with a problem to log, and
 * forgotten only when asked (after the event is stored).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventSpec } from '../../core/contracts/events/catalogue.js';
import { forgetUpdateResult, takeUpdateResult, updateEvent, updateResultFile } from '../../agent/update-result.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
/** Whether an event's data is what the catalogue says its type carries. */
const catalogued = (ev: { type: string; data?: unknown }) => eventSpec(ev.type)?.data.safeParse(ev.data).success;
const result = {
  v: 1,
  outcome: 'rolled_back',
  from: '1.0.0',
  to: '1.0.1',
  reason: 'release 1.0.1 did not start',
  code: 'PROBATION_FAILED',
  probationSec: 180,
  at: '2026-12-06T20:00:00.000Z',
} as const;

describe('update-result.json', () => {
  it('becomes the catalogue event of its outcome, and stays until forgotten', () => {
    const dir = tempDir();
    writeFileSync(updateResultFile(dir), JSON.stringify(result));
    const taken = takeUpdateResult(dir);
    expect(taken.problem).toBeNull();
    const ev = updateEvent('gw-1', taken.result!);
    expect(ev).toEqual({
      deviceId: 'gw-1',
      type: 'update.rolled_back',
      priority: 'critical',
      data: {
        from: '1.0.0',
        to: '1.0.1',
        reason: 'release 1.0.1 did not start',
        code: 'PROBATION_FAILED',
        at: result.at,
      },
    });
    expect(catalogued(ev)).toBe(true);
    const applied = updateEvent('gw-1', { ...result, outcome: 'applied', reason: null, code: null });
    expect(applied).toMatchObject({ type: 'update.applied', data: { from: '1.0.0', to: '1.0.1', probationSec: 180 } });
    expect(catalogued(applied)).toBe(true);
    expect(existsSync(updateResultFile(dir))).toBe(true); // not before the event is stored
    forgetUpdateResult(dir);
    expect(takeUpdateResult(dir)).toEqual({ result: null, problem: null });
  });

  it('an unreadable file is kept aside as .bad and named, never read again', () => {
    const dir = tempDir();
    writeFileSync(updateResultFile(dir), '{"v":1,"outcome":"appl');
    const taken = takeUpdateResult(dir);
    expect(taken.result).toBeNull();
    expect(taken.problem).toMatch(/update-result\.json unreadable \(kept as \.bad\)/);
    expect(readFileSync(join(dir, 'update-result.json.bad'), 'utf8')).toBe('{"v":1,"outcome":"appl');
    expect(takeUpdateResult(dir)).toEqual({ result: null, problem: null });
  });
});
