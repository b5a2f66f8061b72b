/**
 * A crash at every durable write of a short scripted run (the test-only hook
 * VG_CRASH_AT_WRITE=N kills the CLI with SIGKILL right after its Nth write: outbox commits,
 * the seq reservation, the alarm state; `before:N` right before it). The script is a small
 * village day: start, a press on the button with the LED, a press on the other one, the rule
 * answering each (siren + alert), the county acknowledging both (the LED lights), a clean
 * stop. After each crash the agent restarts over the same data, the button is pressed once
 * more, and everything committed must reach the county with each boot's seqs contiguous.
 * N runs from 1 until a run makes fewer than N writes (K = the run's writes). The long form
 * covers every N, after and before the write; the short form a spread of them.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentChild } from '../helpers/agent-child.js';
import { cliVillageConfig } from '../helpers/cli-village.js';
import { County } from '../helpers/county.js';
import { faultSize, LONG_FAULTS } from '../helpers/fault-size.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

/** Stop after this many failing crash points: enough to see the pattern, and a failing run stays short. */
const MAX_FAILING_POINTS = 3;

/** Short form: 1, 2, 3, then steps growing by half (a spread over the run); long form: every N. */
const nextN = (n: number) => (LONG_FAULTS ? n + 1 : n < 3 ? n + 1 : Math.ceil(n * 1.5));

describe('a crash at every durable write', () => {
  for (const mode of LONG_FAULTS ? (['after', 'before'] as const) : (['after'] as const)) {
    it(
      `loses nothing when killed ${mode} write N, for N = 1..K`,
      { timeout: faultSize(120_000, 1_200_000) },
      async () => {
        const startedAt = Date.now();
        const county = await County.start(brokerRef.current.url, `write-${mode}`);
        cleanup(() => county.stop());
        const panel = await new PanicPanel().start();
        cleanup(() => panel.close());
        let live: AgentChild | null = null;
        cleanup(() => live?.kill('SIGKILL'));

        const covered: number[] = [];
        const failing: string[] = [];
        let k = 0;
        for (let n = 1; failing.length < MAX_FAILING_POINTS; n = nextN(n)) {
          const gatewayId = `gw-${mode}-${n}`;
          const dir = tempDir();
          const file = AgentChild.writeConfig(
            dir,
            cliVillageConfig({ gatewayId, dataDir: join(dir, 'data'), url: brokerRef.current.url, panel }),
          );
          const boot = () => (live = new AgentChild(file).start());
          const clean = (endings: { code: number | null; signal: string | null }[]) =>
            endings.every((e) => e.code === 0 && e.signal === null);
          const problemsBefore = county.check.checker.verdict().problems.length;

          // The scripted run, crashing at write N (or running to its end).
          const run = (live = new AgentChild(file, {
            VG_CRASH_AT_WRITE: mode === 'before' ? `before:${n}` : String(n),
          }).start());
          await script(run, panel, county, gatewayId);
          const ending = await run.kill('SIGTERM');
          county.committedBy(run);
          const crashed = ending.signal === 'SIGKILL';
          if (!crashed) {
            expect(ending, `run without a crash at N=${n}; output:\n${run.output}`).toEqual({ code: 0, signal: null });
            expect(clean(await county.stopDelivering(run, boot)), 'booting again after the clean stop').toBe(true);
            k = n - 1;
            break;
          }
          covered.push(n);

          // Restart over the same data: one more press, then everything must arrive.
          const again = boot();
          expect(await again.storedAtLeast(1, 20_000), `restart after a crash at write ${n}:\n${again.output}`).toBe(
            true,
          );
          await panel.press('di1', 3000, () => again.running);
          await waitUntil(
            () => county.received('alert.acknowledged', gatewayId).length >= 1 || !again.running,
            10_000,
            `an acknowledgement after the restart (N=${n})`,
          ).catch(() => {});
          await county.settle(8_000, again);
          expect(clean(await county.stopDelivering(again, boot)), again.output).toBe(true);
          const verdict = county.check.checker.verdict();
          if (verdict.problems.length > problemsBefore)
            failing.push(`crash ${mode} write ${n}: ${verdict.problems.slice(problemsBefore).join(' | ')}`);
        }
        expect(failing).toEqual([]);
        const verdict = await county.check.expectAllDelivered(15_000);
        expect(k, 'the scripted run makes a few writes').toBeGreaterThan(5);
        const pressed = county.received('alarm.pressed').length;
        const acked = county.received('alert.acknowledged').length;
        const outcomes = new Map<string, number>();
        for (const o of county.acks.values()) outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
        // A crash between an alert's commit and its alarm state would leave the county an alert the gateway does
        // not know.
        expect(outcomes.get('UNKNOWN_ALERT') ?? 0, 'acks answered UNKNOWN_ALERT').toBe(0);
        console.log(
          `crash ${mode} write N: ${covered.length} crash points covered (N = ${covered.join(', ')}) of K = ${k} writes in the scripted run, ` +
            `in ${Math.round((Date.now() - startedAt) / 1000)} s; ${verdict.distinct} distinct events checked, ${verdict.duplicates} duplicates; ` +
            `${pressed} alarm.pressed and ${acked} alert.acknowledged at the county (ack replies: ${[...outcomes].map(([o, c]) => `${c} ${o}`).join(', ')}); ${panel.ledsLit} LEDs lit`,
        );
      },
    );
  }
});

/** The village day the crash lands in: each step stops early once the agent is gone. */
async function script(run: AgentChild, panel: PanicPanel, county: County, gatewayId: string): Promise<void> {
  const alive = () => run.running;
  if (!(await panel.polled(2, 20_000, alive))) return;
  await panel.press('di1', 3000, alive);
  await panel.press('di2', 3000, alive);
  // Both alerts acknowledged by the county and the acknowledgements recorded (or the agent gone).
  await waitUntil(
    () => !alive() || county.received('alert.acknowledged', gatewayId).length >= 2,
    10_000,
    'both acknowledgements',
  ).catch(() => {});
}
