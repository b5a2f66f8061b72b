/**
 * Wall-clock jumps against the two clocks the uplink and the outbox keep (fake clock): the
 * uplink's "down for" (which decides the SMS fallback) and the outbox's event ages (which
 * decide the age caps). A jump of a year must move neither; real time passing moves both.
 */
import { describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../core/contracts/event.js';
import { Outbox } from '../../agent/outbox/outbox.js';
import { Uplink } from '../../agent/uplink/uplink.js';
import { outboxConfig, testConfig } from '../helpers/agent-config.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const YEAR = 365 * 86_400_000;

describe('wall-clock jumps, uplink and outbox', () => {
  it("measures the uplink's down time on the monotonic clock", () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const outbox = new Outbox({ dir, config: outboxConfig(), clock });
    const config = testConfig('mqtt://127.0.0.1:1', dir);
    const uplink = new Uplink({
      config: config.mqtt,
      baseDir: dir,
      gatewayId: 'gw',
      identity: { bootId: 'b', version: 'v', configHash: 'h' },
      outbox,
      logger: quietLogger(),
      clock,
    });
    expect(uplink.stats().downForMs).toBe(0); // down from the start (never connected)
    clock.wall += YEAR;
    expect(uplink.stats().downForMs).toBe(0);
    clock.wall -= 2 * YEAR;
    expect(uplink.stats().downForMs).toBe(0);
    clock.advance(61_000);
    expect(uplink.stats().downForMs).toBe(61_000);
    outbox.close();
  });

  it('sheds nothing by age cap when the wall clock jumps a year, forward or back, across a restart too; real age still sheds', async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const config = outboxConfig({ maxAgeSec: { high: 60, normal: 60, low: 60 } });
    const make = eventMaker(dir, clock);
    let outbox = new Outbox({ dir, config, clock });
    const first = PRIORITIES.map((p) => make(p));
    for (const e of first) await outbox.put(e);
    clock.wall += YEAR;
    expect(outbox.sweepAges()).toBe(0);
    clock.wall -= 2 * YEAR;
    const second = PRIORITIES.map((p) => make(p)); // captured with the clock a year behind
    for (const e of second) await outbox.put(e);
    expect(outbox.sweepAges()).toBe(0);
    outbox.close();

    // A restart with the clock still a year behind, then set right by NTP.
    outbox = new Outbox({ dir, config, clock });
    expect(outbox.sweepAges()).toBe(0);
    clock.wall += YEAR;
    expect(outbox.sweepAges()).toBe(0);
    expect(Object.values(outbox.stats().shed).reduce((a, b) => a + b, 0)).toBe(0);
    // Replay order is untouched by the jumps: priority, then the order they were stored in.
    const ids = (rows: { body: string }[]) => rows.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(ids(outbox.readPage(null, 100))).toEqual(PRIORITIES.flatMap((_, i) => [first[i]!.id, second[i]!.id]));

    // A minute of real time: everything but critical is past its cap.
    clock.advance(61_000);
    expect(outbox.sweepAges()).toBe(6);
    expect(outbox.stats().backlog.critical.count).toBe(2);
    outbox.close();
  });
});
