/**
 * Grouped telemetry commits under kill -9 (issue 21): the agent CLI with `outbox.groupCommitMs`
 * at its cap (2 s), a meter at 20 readings a second and the panic panel. Each boot runs until
 * groups have committed, a resident presses a button (the rule answers with the siren), and the
 * agent is killed at a random moment inside the telemetry window that follows. Each kill may lose
 * the readings of the window open at the kill, no earlier one (commits keep seq order, so the
 * newest committed reading says how far back the loss reaches), never an alarm (a press the siren
 * answered is at the county: alarms commit at once, taking the group along), and everything
 * committed reaches the county once a last boot runs (the checker: every id, each boot's seqs
 * contiguous). Short form: 6 kills (npm test); long form: 40 (VG_FAULTS=long).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentChild } from '../helpers/agent-child.js';
import { cliVillageConfig } from '../helpers/cli-village.js';
import { County } from '../helpers/county.js';
import { faultSize } from '../helpers/fault-size.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const KILLS = faultSize(6, 40);
const WINDOW_MS = 2000;
/** The commit itself and event-loop lag on a shared 2-core machine: a reading may be this much older. */
const SLACK_MS = 750;
const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 inside a telemetry group', () => {
  it(
    `loses at most the open window's readings and never an alarm across ${KILLS} kills`,
    { timeout: faultSize(180_000, 900_000) },
    async () => {
      const county = await County.start(brokerRef.current.url, 'grouped');
      cleanup(() => county.stop());
      const panel = await new PanicPanel().start();
      cleanup(() => panel.close());
      const dir = tempDir();
      const base = { gatewayId: 'gw-grouped', dataDir: join(dir, 'data'), url: brokerRef.current.url, panel };
      const outbox = { groupCommitMs: WINDOW_MS };
      const metered = AgentChild.writeConfig(
        dir,
        { ...cliVillageConfig({ ...base, telemetryPerSec: 20 }), outbox },
        'metered.yaml',
      );
      const quiet = AgentChild.writeConfig(dir, { ...cliVillageConfig(base), outbox }, 'quiet.yaml');
      let live: AgentChild | null = null;
      cleanup(() => live?.kill('SIGKILL'));

      const boots: { child: AgentChild; killedAt: number; answered: boolean }[] = [];
      for (let i = 0; i < KILLS; i++) {
        const child = (live = new AgentChild(metered).start());
        if (!(await panel.polled(2, 20_000, () => child.running)))
          throw new Error(`kill ${i}: the agent did not start; output:\n${child.output}`);
        await sleep(2500 + Math.random() * 1500); // groups have committed by now
        const answered = await panel.press(i % 2 === 0 ? 'di1' : 'di2', 3000, () => child.running);
        await sleep(Math.random() * WINDOW_MS); // inside the window the press's commit opened
        const killedAt = Date.now();
        expect(await child.kill('SIGKILL'), `kill ${i}: ended early; output:\n${child.output}`).toEqual({
          code: null,
          signal: 'SIGKILL',
        });
        county.committedBy(child);
        boots.push({ child, killedAt, answered });
      }

      // One more run, without the meter: it delivers what the kills left behind.
      const drainer = (live = new AgentChild(quiet).start());
      expect(await drainer.storedAtLeast(1, 20_000), drainer.output).toBe(true);
      await county.settle(faultSize(30_000, 120_000), drainer);
      await county.stopDelivering(drainer, () => (live = new AgentChild(quiet).start()));
      const verdict = await county.check.expectAllDelivered(15_000);

      const events = county.check.checker.events();
      const losses: number[] = [];
      boots.forEach(({ child, killedAt, answered }, i) => {
        const stored = [...child.stored.keys()];
        const bootId = events.find((e) => e.id === stored[0])?.bootId;
        const ofBoot = events.filter((e) => e.bootId === bootId);
        const readings = ofBoot.filter((e) => e.type === 'sensor.telemetry').map((e) => Date.parse(String(e.ts)));
        expect(readings.length, `boot ${i} committed readings`).toBeGreaterThan(0);
        const lost = killedAt - Math.max(...readings);
        losses.push(lost);
        expect(lost, `boot ${i}: the newest committed reading is older than the window`).toBeLessThan(
          WINDOW_MS + SLACK_MS,
        );
        if (answered)
          expect(
            ofBoot.filter((e) => e.type === 'alarm.pressed').length,
            `boot ${i}: the answered press`,
          ).toBeGreaterThanOrEqual(1);
      });
      const answered = boots.filter((b) => b.answered).length;
      expect(answered, 'the rule answered presses').toBeGreaterThan(0);
      console.log(
        `grouped telemetry, kill -9 x${KILLS}: ${verdict.distinct} distinct events over ${verdict.boots.length} boots, ` +
          `${verdict.duplicates} duplicates (identical); ${answered} answered presses all at the county; ` +
          `newest committed reading before each kill: ${losses.map((l) => `${l} ms`).join(', ')}`,
      );
    },
  );
});
