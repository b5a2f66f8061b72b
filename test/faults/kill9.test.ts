/**
 * Power cuts with the village live: the agent CLI (a real process) is killed -9 at random
 * moments, during start-up or mid-drain, while residents press panic buttons that a rule
 * answers (siren + alert) and the county acknowledges alerts. Each time it restarts over
 * the same data folder. Boots alternate between a busy gateway (a meter and paced replay: a
 * backlog, so kills land mid-drain) and a quiet one (nothing queued: an alarm is sent the
 * moment it is stored, the case where a rule's alert once overtook its press and the press
 * was skipped). In the end every event the outbox acknowledged reaches the county,
 * each boot's seqs are contiguous (the checker), and duplicates are identical.
 * Short form: 20 kills (npm test, as the README promises CI); long form: 200 (VG_FAULTS=long).
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
import { waitUntil } from '../helpers/wait.js';

const KILLS = Number(process.env.VG_KILLS ?? faultSize(20, 200));
const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 with rules firing', () => {
  it(
    `loses nothing committed across ${KILLS} kills while buttons are pressed and alerts acknowledged`,
    { timeout: faultSize(150_000, 1_800_000) },
    async () => {
      const startedAt = Date.now();
      const county = await County.start(brokerRef.current.url, 'kill9');
      cleanup(() => county.stop());
      const panel = await new PanicPanel().start();
      cleanup(() => panel.close());
      const dir = tempDir();
      const base = { gatewayId: 'gw-kill9', dataDir: join(dir, 'data'), url: brokerRef.current.url, panel };
      // Busy: the meter outruns the paced replay (3000 events/s asked, at most 500/s out), so a backlog grows.
      const busy = AgentChild.writeConfig(
        dir,
        cliVillageConfig({ ...base, telemetryPerSec: 3000, healthSec: 1, messagesPerSec: 50 }),
        'busy.yaml',
      );
      // Quiet: nothing else queued, not even health (any other live row hid the skipped press).
      const quiet = AgentChild.writeConfig(dir, cliVillageConfig(base), 'quiet.yaml');
      let live: AgentChild | null = null;
      cleanup(() => live?.kill('SIGKILL'));

      panel.startResidents();
      let lastMaxSeq = 0;
      let largestBacklog = 0; // committed but not yet at the county, right after a kill
      const committed = new Set<string>();
      let duringStartup = 0;
      for (let i = 0; i < KILLS; i++) {
        const child = (live = new AgentChild(i % 2 === 0 ? busy : quiet).start());
        if (Math.random() < 0.15) {
          // During start-up: seq block reservation, alarm state, gateway.started.
          duringStartup += 1;
          await sleep(Math.random() * 400);
        } else {
          // Running: drivers started (the panel is polled), then a random moment.
          if (!(await panel.polled(2, 20_000, () => child.running)))
            throw new Error(`kill ${i}: the agent did not start; output:\n${child.output}`);
          await sleep(Math.random() * 1000);
        }
        const ending = await child.kill('SIGKILL');
        expect(ending, `kill ${i}: the agent ended before it was killed; output:\n${child.output}`).toEqual({
          code: null,
          signal: 'SIGKILL',
        });
        county.committedBy(child);
        for (const id of child.stored.keys()) committed.add(id);
        largestBacklog = Math.max(largestBacklog, county.check.checker.undelivered().length);
        const seqs = [...child.stored.values()];
        if (seqs.length > 0) {
          expect(Math.min(...seqs), 'seq strictly increases across restarts').toBeGreaterThan(lastMaxSeq);
          lastMaxSeq = Math.max(...seqs);
        }
      }
      await panel.stopResidents();

      // One more run, left alone: it delivers what the kills left behind and answers pending acks.
      const drainer = (live = new AgentChild(quiet).start());
      expect(await drainer.storedAtLeast(1, 20_000), drainer.output).toBe(true); // started (SIGTERM is handled from then on)
      await county.settle(faultSize(30_000, 120_000), drainer); // the verdict below says what is missing, if anything
      const acksAnswered = await waitUntil(
        () => county.unanswered === 0,
        30_000,
        'a reply to every acknowledgement',
      ).then(
        () => null,
        (e: Error) => e.message,
      );
      await county.settle(10_000, drainer); // what answering the acks committed
      const endings = await county.stopDelivering(drainer, () => (live = new AgentChild(quiet).start()));
      for (const id of drainer.stored.keys()) committed.add(id);
      const verdict = await county.check.expectAllDelivered(15_000);
      expect(
        endings.every((e) => e.code === 0 && e.signal === null),
        drainer.output,
      ).toBe(true);
      expect(acksAnswered).toBeNull();

      // The village really ran: presses answered by the rule, alerts acknowledged, LEDs lit.
      const pressed = county.received('alarm.pressed').length;
      const alerts = county.received('alert.raised').length;
      const outcomes = [...county.acks.values()];
      expect(largestBacklog, 'kills left a backlog behind for the next boot').toBeGreaterThan(0);
      expect(pressed).toBeGreaterThan(0);
      expect(alerts).toBeGreaterThan(0);
      expect(outcomes.filter((o) => o === 'acknowledged').length).toBeGreaterThan(0);
      // Every alert the county got is one the gateway knows: its state is recorded before the alert commits.
      expect(
        outcomes.filter((o) => o === 'UNKNOWN_ALERT'),
        `acks: ${summarize(outcomes)}`,
      ).toEqual([]);
      console.log(
        `kill -9 x${KILLS} (${duringStartup} during start-up) in ${Math.round((Date.now() - startedAt) / 1000)} s: ` +
          `${verdict.distinct} distinct events checked over ${verdict.boots.length} boots (${committed.size} acknowledged by the outbox), ` +
          `${verdict.duplicates} duplicates (identical); largest backlog left by a kill ${largestBacklog}; ` +
          `${panel.presses} presses, ${panel.answered} answered by the siren, ${pressed} alarm.pressed and ${alerts} alert.raised at the county; ` +
          `acks: ${summarize(outcomes)}; ${panel.ledsLit} LEDs lit`,
      );
    },
  );
});

function summarize(outcomes: string[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
}
