/** State files, damaged or unwritable: kept aside and reported, never a reused seq, never a stop. */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
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

describe('the alarm state file', () => {
  const brokerRef = useBroker();
  const cleanup = useCleanups();

  it.each([
    ['unparseable', '{"version":1,"alerts":[{"alertId":'],
    ['valid JSON of the wrong shape (it crash-looped the agent)', '{"version":1,"alerts":5}'],
    ['an alert missing its fields', '{"version":1,"alerts":[{"alertId":"a1"}]}'],
  ])('%s: kept aside, reported as gateway.state_recovered, and the agent runs', async (_, content) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'alarms.json'), content);
    const county = await startCounty(brokerRef.current.url, cleanup, `county-state-${Math.random()}`);
    const check = new DeliveryCheck(county);
    const agent = new Agent({
      config: testConfig(brokerRef.current.url, dir, { gateway: { id: 'gw-state' } }),
      configHash: 't',
      baseDir: dir,
      logger: quietLogger(),
    });
    check.watch(agent);
    await agent.start();
    cleanup(() => agent.stop());
    await county.waitFor(() => [...county.events.values()].some((e) => e.type === 'gateway.state_recovered'), 10_000);
    const report = [...county.events.values()].find((e) => e.type === 'gateway.state_recovered')!;
    expect(report.data).toMatchObject({
      file: 'alarms.json',
      problem: expect.any(String),
      keptAs: expect.stringContaining('alarms.json.bad-'),
    });
    expect(readFileSync(report.data.keptAs as string, 'utf8')).toBe(content);
    await check.expectAllDelivered();
    await agent.stop();
    // The next start finds a good file (the agent wrote its state afresh): nothing more to report.
    expect(readdirSync(dir).filter((f) => f.startsWith('alarms.json.bad-'))).toHaveLength(1);
  });
});
