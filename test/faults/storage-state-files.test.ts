/** The sequence file, damaged or unwritable: kept aside and reported, never a reused seq, never a stop. */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeqCounter } from '../../agent/seq-counter.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('the sequence file', () => {
  it.each([
    ['unparseable', '{"reservedUp'],
    ['valid JSON of the wrong shape', '{"version":1,"reservedUpTo":"lots"}'],
    ['a negative count', '{"reservedUpTo":-5}'],
  ])('%s: kept aside, reported, and counting goes on above what the outbox holds', (_, content) => {
    const dir = tempDir();
    const file = join(dir, 'seq.json');
    writeFileSync(file, content);
    const seq = SeqCounter.open(file, 41_000, 10, () => Date.UTC(2026, 10, 27));
    expect(seq.fileProblem?.problem).toBeTruthy();
    expect(seq.fileProblem?.keptAs).toBe(join(dir, 'seq.json.bad-2026-11-27T00-00-00-000Z'));
    expect(existsSync(seq.fileProblem!.keptAs!)).toBe(true);
    expect(seq.next()).toBe(41_001);
    expect(SeqCounter.open(file, 0, 10).next()).toBe(41_011); // the fresh file holds the new reservation
  });

  it('goes on counting when its reservation cannot be written, and writes it once it can', () => {
    const dir = tempDir();
    const file = join(dir, 'seq.json');
    mkdirSync(`${file}.tmp`); // the durable write's temp file cannot be created
    const seq = SeqCounter.open(file, 0, 5);
    const got = Array.from({ length: 12 }, () => seq.next());
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(seq.writeError).toMatch(/EISDIR/);
    expect(readdirSync(dir)).not.toContain('seq.json');
  });
});
