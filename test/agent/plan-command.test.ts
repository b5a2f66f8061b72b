/**
 * `village-gateway plan` as a technician runs it (the built CLI): 40 columns by default for the
 * example and demo configs, `--wide` the full table, `--json` for machines, and a warning that
 * names the setting eating the month (health every 5 minutes, where health goes alone as JSON) and
 * what a longer interval saves; none once health is hourly, nor for the example as shipped (the
 * dictionary and health in the batches).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/agent-child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const EXAMPLE = 'config/gateway.example.yaml';
const DEMO = 'config/demo.yaml';
const SHIPPED_WIRE = 'wire: { format: compact, compression: deflate-dict1, lingerMs: 60000, health: batch }';
const PLAIN_WIRE = 'wire: { format: compact, compression: deflate, lingerMs: 60000 }';

/** The example config with health alone on its topic and plain deflate (the example before issue 21), and `edit` applied. */
function plainExample(edit: (text: string) => string = (t) => t): string {
  const text = readFileSync(EXAMPLE, 'utf8');
  expect(text).toContain(SHIPPED_WIRE);
  const file = join(tempDir(), 'plain.yaml');
  writeFileSync(file, edit(text.replace(SHIPPED_WIRE, PLAIN_WIRE)));
  return file;
}

function plan(file: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'plan', '--config', file, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

const widest = (out: string) =>
  Math.max(
    ...out
      .trimEnd()
      .split('\n')
      .map((l) => l.length),
  );

describe('village-gateway plan', () => {
  it('fits 40 columns for the example and the demo config', () => {
    for (const file of [EXAMPLE, DEMO]) {
      const out = plan(file);
      expect(widest(out), out).toBeLessThanOrEqual(40);
      // A running village's health is ~1 KB of JSON alone on /health (agent/plan-health.ts; the demo),
      // a fraction of that in the example's batches with the dictionary.
      expect(out).toMatch(/^gateway\.health +8,640 +0\.\d\d$|^gateway\.health +518,400 +5\d\d\.\d$/m);
      expect(out).toMatch(/^total +\d+(\.\d+)?$/m);
    }
  });

  it('warns that health every 5 minutes alone as JSON is most of the month, and what hourly saves; the example as shipped is not warned', () => {
    expect(plan(EXAMPLE)).not.toMatch(/WARNING/);
    expect(plan(EXAMPLE)).toMatch(/^gateway\.health +8,640 +0\.\d\d$/m);
    const out = plan(plainExample());
    expect(out).toMatch(
      /^WARNING 6\d% of the month is\n {2}health\.intervalSec\n {2}now every 5 min: 1\d\.\d of 1\d\.\d MB;\n {2}every 1 h would save 9\.\d\d MB$/m,
    );
    const wide = plan(plainExample(), '--wide');
    expect(wide).toMatch(/^type +priority +devices +events\/month +json bytes\/month +wire bytes\/month +as$/m);
    expect(wide).toContain('health.intervalSec');
  });

  it("counts the example's gate camera pictures on a line of their own; --pictures-per-day sets how many", () => {
    const out = plan(EXAMPLE);
    expect(out).toMatch(/^pictures +90\.0 +4\.\d\d\n {2}3 a day x 50 KB, 1 camera, auto$/m);
    const busy = plan(EXAMPLE, '--pictures-per-day', '20');
    expect(busy).toMatch(/^pictures +600 +3\d\.\d\n {2}20 a day x 50 KB, 1 camera, auto$/m);
    expect(widest(busy)).toBeLessThanOrEqual(40);
    const json = JSON.parse(plan(EXAMPLE, '--json', '--pictures-per-day', '20')) as {
      pictures: { sentPerMonth: number; bytes: number };
      totalBytes: { wire: number };
    };
    expect(json.pictures.sentPerMonth).toBe(600);
    expect(json.totalBytes.wire).toBeGreaterThan(json.pictures.bytes);
  });

  it('with the dictionary and health in the batches, health every 30 s is a tenth of the bytes and still warned of', () => {
    const every30 = (t: string) => t.replace(/intervalSec: 300\n/, 'intervalSec: 30\n');
    const before = plainExample(every30);
    const after = plainExample((t) => every30(t).replace(PLAIN_WIRE, SHIPPED_WIRE));
    const healthMb = (out: string) => Number(/^gateway\.health +86,400 +([\d.]+)$/m.exec(out)?.[1]);
    const [was, now] = [plan(before), plan(after)];
    expect(healthMb(was)).toBeGreaterThan(80);
    expect(healthMb(now)).toBeLessThan(healthMb(was) / 10);
    expect(now).toMatch(/^wire compact deflate-dict1, MQTT 5$/m);
    expect(now).toMatch(/^WARNING \d+% of the month is\n {2}health\.intervalSec\n {2}now every 30 s: /m);
    expect(widest(now)).toBeLessThanOrEqual(40);
  });

  it('says nothing once health is hourly', () => {
    expect(readFileSync(EXAMPLE, 'utf8')).toMatch(/intervalSec: 300\n/);
    const hourly = plainExample((t) => t.replace(/intervalSec: 300\n/, 'intervalSec: 3600\n'));
    const out = plan(hourly);
    expect(out).not.toMatch(/WARNING/);
    expect(widest(out)).toBeLessThanOrEqual(40);
    const json = JSON.parse(plan(hourly, '--json')) as { warnings: unknown[] };
    expect(json.warnings).toEqual([]);
  });

  it('--json parses and carries the rows, the totals and the warning', () => {
    const json = JSON.parse(plan(plainExample(), '--json')) as {
      rows: { type: string; eventsPerMonth: number }[];
      totalBytes: { json: number; wire: number };
      warnings: { setting: string; value: number; share: number; suggest: { value: number; saves: number } }[];
    };
    expect(json.rows.find((r) => r.type === 'gateway.health')?.eventsPerMonth).toBe(8640);
    expect(json.totalBytes.wire).toBeGreaterThan(9e6);
    expect(json.warnings).toHaveLength(1);
    expect(json.warnings[0]).toMatchObject({ setting: 'health.intervalSec', value: 300, suggest: { value: 3600 } });
    expect(json.warnings[0]!.share).toBeGreaterThan(0.5);
    expect(json.warnings[0]!.suggest.saves).toBeGreaterThan(8e6);
  });
});
