/**
 * Wall-clock jumps against the local safety loop (escalation, SMS fallback, SMS retries and
 * budget, pulses across a restart), with a fake clock (an edge we own) and fake ports, as in
 * test/rules/escalation.test.ts. A Pi has no RTC: NTP may move its wall clock by days after a
 * week offline, or a technician may set it. No jump may send an SMS, hold one back, or
 * stretch a siren pulse; real (monotonic) time passing still does what it should, which each
 * test checks too, so none of them passes by doing nothing.
 */
import { describe, expect, it } from 'vitest';
import type { SmsSender } from '../../core/contracts/sms.js';
import { FakeClock } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import type { AlarmsInput, RuleInput } from '../helpers/config-input.js';
import { alarmsBench } from '../helpers/alarms-bench.js';

const tempDir = useTempDirs();
const DAY = 86_400_000;

interface Setup {
  dir?: string;
  clock?: FakeClock;
  alarms?: AlarmsInput;
  rule?: Partial<RuleInput>;
  downForMs?: () => number | null;
  sender?: SmsSender;
}

async function safetyLoop(o: Setup = {}) {
  const dir = o.dir ?? tempDir();
  const bench = await alarmsBench({
    dir,
    clock: o.clock,
    gateway: { id: 'gw-clock' },
    rule: o.rule,
    alarms: { escalateAfterSec: 120, smsWhenUplinkDownSec: 60, ...o.alarms },
    downForMs: o.downForMs,
    sender: o.sender,
  });
  const { alarms, clock, events, writes, texts } = bench;
  const stats = alarms.engine.stats.get('panic')!;
  const alerts = () => events.filter((e) => e.type === 'alert.raised').length;
  /**
   * A press, once the rule has judged it: held back by its cooldown, or fired (its alert raised, or its output
   * written).
   */
  const press = async () => {
    const before = { suppressed: stats.suppressed, alerts: alerts(), writes: writes.length };
    bench.deliver(bench.pressEvent());
    await waitUntil(
      () => stats.suppressed > before.suppressed || alerts() > before.alerts || writes.length > before.writes,
      2000,
      'the rule to answer the press',
    );
  };
  /**
   * What the agent's timers do every second; then lets a send already under way finish (the queue sends one at a
   * time).
   */
  const tick = async () => {
    await alarms.checkSms();
    await alarms.sms!.pump();
    // A sleep: a send started by enqueue() (fire and forget) ends with a file write, and the
    // queue shows no sign of it (its busy flag is private), so there is no condition to wait on.
    await new Promise((r) => setTimeout(r, 20));
  };
  return { dir, clock, alarms, events, writes, texts, press, tick };
}

describe('wall-clock jumps and the safety loop', () => {
  it('escalates an unacknowledged alert after 120 s of real time, not after a jump of a day', async () => {
    const t = await safetyLoop({ alarms: { smsWhenUplinkDownSec: 3600 } });
    await t.press();
    t.clock.wall += DAY; // NTP after days offline
    await t.tick();
    t.clock.wall -= 2 * DAY; // and a technician setting it back
    await t.tick();
    expect(t.texts).toEqual([]);
    expect([...t.alarms.active.values()][0]).toMatchObject({ escalatedAt: null, smsSentAt: null });
    t.clock.advance(120_000);
    await t.tick();
    await t.tick();
    expect(t.texts).toHaveLength(1);
    t.alarms.stop();
  });

  it('retries a failed SMS after its backoff even if the clock was set back a day meanwhile', async () => {
    let fail = true;
    const sent: string[] = [];
    const sender: SmsSender = {
      ready: true,
      sendSms: async (_to, text) => {
        if (fail) throw new Error('no network service'); // worth a retry (backoff 15 s)
        sent.push(text);
        return { parts: 1, references: [1], encoding: 'gsm' };
      },
    };
    const t = await safetyLoop({ sender });
    await t.alarms.sms!.enqueue(['13800138000'], 'test', null, 'test');
    await t.tick();
    expect(t.alarms.sms!.pending).toMatchObject([{ attempts: 1 }]);
    fail = false;
    t.clock.wall -= DAY;
    t.clock.advance(14_000);
    await t.tick();
    expect(sent).toEqual([]); // the backoff still holds
    t.clock.advance(1_000);
    await t.tick();
    expect(sent).toEqual(['test']);
    t.alarms.stop();
  });

  it('keeps the hourly SMS budget across a jump forward', async () => {
    const t = await safetyLoop({ alarms: { smsPerHour: 1 } });
    await t.alarms.sms!.enqueue(['13800138000', '13900139000'], 'test', null, 'test');
    await t.tick();
    expect(t.texts).toHaveLength(1);
    t.clock.wall += 2 * 3600_000;
    await t.tick();
    expect(t.texts, 'a jump is not an hour').toHaveLength(1);
    t.clock.advance(3600_001);
    await t.tick();
    expect(t.texts).toHaveLength(2);
    t.alarms.stop();
  });

  it('resumes a pulse after a restart for what is left of it, and never longer when the clock was set back', async () => {
    const rule: Partial<RuleInput> = {
      actions: [{ do: 'output', device: 'board', output: 'do7', action: 'pulse', durationMs: 60_000 }],
    };
    const first = await safetyLoop({ rule });
    await first.press();
    expect(first.writes).toEqual([expect.objectContaining({ action: 'pulse', durationMs: 60_000 })]);
    await new Promise((r) => setImmediate(r)); // the pulse is saved on the next turn
    first.clock.advance(10_000);
    first.alarms.stop();

    // A restart 10 s in, clock right: 50 s left.
    const right = await safetyLoop({ dir: first.dir, rule, clock: new FakeClock(first.clock.wall) });
    right.alarms.resumeOutputs();
    expect(right.writes).toEqual([expect.objectContaining({ action: 'pulse', durationMs: 50_000 })]);
    right.alarms.stop();

    // The same restart with the wall clock a day behind: never more than the pulse was.
    const back = await safetyLoop({ dir: first.dir, rule, clock: new FakeClock(first.clock.wall - DAY) });
    back.alarms.resumeOutputs();
    expect(back.writes).toHaveLength(1);
    expect(back.writes[0]!.durationMs).toBeLessThanOrEqual(60_000);
    back.alarms.stop();
  });

  it('a cooldown carried over a restart with the clock set back lasts at most one cooldown', async () => {
    const first = await safetyLoop({ rule: { cooldownSec: 30 } });
    await first.press();
    await new Promise((r) => setImmediate(r));
    first.alarms.stop();
    const back = await safetyLoop({
      dir: first.dir,
      rule: { cooldownSec: 30 },
      clock: new FakeClock(first.clock.wall - DAY),
    });
    await back.press();
    expect(back.events.filter((e) => e.type === 'alert.raised')).toHaveLength(0); // still cooling down
    back.clock.advance(30_000);
    await back.press();
    expect(back.events.filter((e) => e.type === 'alert.raised')).toHaveLength(1);
    back.alarms.stop();
  });
});
