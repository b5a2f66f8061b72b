/**
 * The one idiom for a logged failure (kernel/errors.ts `failure`): every warn, error and fatal
 * call in the agent and its drivers passes `failure(CODE, err, context)` first, so its line
 * carries a code of the table and `err` as a string. Read from the sources, so a new call that
 * logs a failure its own way fails here before any line is written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('the log idiom', () => {
  it('every warn, error and fatal call in agent/ and drivers/ starts with failure(CODE, ...)', () => {
    const off: string[] = [];
    let calls = 0;
    for (const file of [...sources('agent'), ...sources('drivers')]) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\.(warn|error|fatal)\(\s*/g)) {
        calls += 1;
        if (!text.startsWith('failure(', m.index + m[0].length)) {
          const line = text.slice(0, m.index).split('\n').length;
          off.push(`${relative(ROOT, file)}:${line}: ${text.slice(m.index, m.index + 80).split('\n')[0]}`);
        }
      }
    }
    expect(calls).toBeGreaterThan(90); // the scan finds the calls it judges
    expect(off).toEqual([]);
  });
});
