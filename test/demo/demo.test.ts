import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';

const DEMO = fileURLToPath(new URL('../../dist/scripts/demo.js', import.meta.url));

describe('npm run demo', () => {
  it('ends by itself with a JSON summary: everything delivered through an uplink cut', { timeout: 90_000 }, () => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [DEMO, '--json'], { encoding: 'utf8', timeout: 80_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    const lines = r.stdout.trim().split('\n');
    const { check, ...summary } = JSON.parse(lines.at(-1)!) as Record<string, number> & {
      check: {
        ok: boolean;
        problems: string[];
        boots: { firstSeq: number; lastSeq: number; missing: number }[];
        committed: number;
        undelivered: number;
      };
    };
    // The delivery checker's verdict: one boot, every seq from its first on, every committed event delivered.
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.boots).toEqual([expect.objectContaining({ firstSeq: 1, lastSeq: summary.produced, missing: 0 })]);
    expect(check).toMatchObject({ committed: summary.produced, undelivered: 0 });
    expect(r.stdout).toMatch(/\n {2}check {6}ok: 1 boot, seqs contiguous \(1\.\.\d+\), \d+ committed, 0 undelivered, /);
    expect(summary.lost).toBe(0);
    expect(summary.produced).toBeGreaterThan(300);
    expect(summary.delivered).toBe(summary.produced);
    expect(summary.largestBacklog).toBeGreaterThan(100); // the cut really buffered events
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(summary).toHaveProperty('duplicates');
    // The simulated village on Modbus: every panic press became exactly one alarm.
    expect(summary.presses).toBeGreaterThan(5);
    expect(summary.alarms).toBe(summary.presses);
    expect(summary.doorOpenings).toBeGreaterThan(3);
    // The safety loop: presses sound the siren, the county acknowledges and the LEDs light,
    // and presses during the cut go out by SMS (the simulated modem needs socat, as CI has).
    expect(summary.sirens).toBeGreaterThan(0);
    expect(summary.acks).toBeGreaterThan(0);
    expect(summary.ledsLit).toBeGreaterThan(0);
    expect(summary.sms).toBeGreaterThan(0);
    expect(r.stdout).toContain('cutting the uplink');
  });
});
