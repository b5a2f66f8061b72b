/**
 * The uplink's late-alarm port on its own (agent/uplink/alarm-deadlines.ts): which stored
 * alarms are reported as not acknowledged in time, when, and only once. Real timers with a
 * short limit; the whole path (Mosquitto, a forwarder that swallows bytes, the modem) is in
 * test/faults/silent-outage-sms.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AlarmDeadlines, type LateAlarm } from '../../agent/uplink/alarm-deadlines.js';
import { eventMaker } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const LIMIT_MS = 150;

function rig(downSince: () => number | null = () => null, limitMs = LIMIT_MS) {
  const reports: { late: readonly LateAlarm[]; reason: string }[] = [];
  const errors: unknown[] = [];
  const deadlines = new AlarmDeadlines({
    limitMs,
    monoMs: () => performance.now(),
    downSinceMs: downSince,
    onListenerError: (err) => errors.push(err),
  });
  deadlines.onLate((late, reason) => reports.push({ late, reason }));
  return { deadlines, reports, errors, make: eventMaker(tempDir()) };
}

describe('alarm deadlines', () => {
  it('reports a critical event without PUBACK after the limit, once; not the others', async () => {
    const { deadlines, reports, make } = rig();
    const alarm = make('critical');
    const acked = make('critical');
    const started = performance.now();
    deadlines.stored([make('normal'), alarm, acked, make('high')]);
    deadlines.delivered([{ seq: acked.seq }]);
    await waitUntil(() => reports.length > 0, 5000, 'the late alarm');
    expect(performance.now() - started).toBeGreaterThanOrEqual(LIMIT_MS - 1);
    expect(reports).toEqual([
      {
        late: [expect.objectContaining({ id: alarm.id, seq: alarm.seq })],
        reason: expect.stringContaining('no PUBACK'),
      },
    ]);
    deadlines.delivered([{ seq: alarm.seq }]); // the PUBACK after all: nothing more to say
    await new Promise((r) => setTimeout(r, LIMIT_MS * 2)); // an absence: past when a second report would come
    expect(reports).toHaveLength(1);
    deadlines.stop();
  });

  it('an alarm stored while the link has been down the whole limit is late at once', async () => {
    const limitMs = 60_000; // far longer than the wait below: only "at once" can pass
    const downSince = performance.now() - 2 * limitMs;
    const { deadlines, reports, make } = rig(() => downSince, limitMs);
    const alarm = make('critical');
    deadlines.stored([alarm]);
    await waitUntil(() => reports.length > 0, 10_000, 'the alarm reported before its own limit');
    expect(reports[0]).toMatchObject({ late: [{ id: alarm.id }], reason: expect.stringContaining('uplink down') });
    deadlines.stop();
  });

  it('a listener that throws does not keep the others from hearing', async () => {
    const { deadlines, reports, errors, make } = rig();
    deadlines.onLate(() => {
      throw new Error('boom');
    });
    const later: LateAlarm[] = [];
    deadlines.onLate((late) => later.push(...late));
    deadlines.stored([make('critical')]);
    await waitUntil(() => later.length === 1, 5000, 'the third listener');
    expect(reports).toHaveLength(1);
    expect(errors).toEqual([expect.objectContaining({ message: 'boom' })]);
    deadlines.stop();
  });

  it('stop() ends the wait: nothing is reported after it', async () => {
    const { deadlines, reports, make } = rig();
    deadlines.stored([make('critical')]);
    deadlines.stop();
    await new Promise((r) => setTimeout(r, LIMIT_MS * 2)); // an absence: past the limit
    expect(reports).toHaveLength(0);
  });
});
