/** `npm run demo -- --help` prints the flags and exits at once; a wrong flag is refused, not a demo run. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../../dist/scripts/demo.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [DEMO, ...args], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });

describe('demo command line', () => {
  it('--help prints usage and the flags, exits 0 quickly, runs nothing', () => {
    const started = Date.now();
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const flag of ['--json', '--lab', '--help']) expect(r.stdout).toContain(flag);
    expect(r.stdout).not.toContain('village demo: broker on');
  });

  it('an unknown flag exits 2 with the usage', () => {
    const r = run('--keep');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--keep'");
    expect(r.stderr).toContain('usage: npm run demo');
  });
});
