/** Escalation and the SMS fallback decisions with a fake clock (the clock and our own ports are edges we own). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { LocalAlarms } from '../../agent/alarms/local-alarms.js';
import { acknowledgedToForget, type StoredAlert } from '../../agent/alarms/alarm-state.js';
import { testConfig } from '../helpers/agent-config.js';
import type { AlarmsInput, RuleInput } from '../helpers/config-input.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { alarmsBench } from '../helpers/alarms-bench.js';

const tempDir = useTempDirs();

async function setup(
  alarms: AlarmsInput,
  downForMs: () => number | null,
  ruleSms: RuleInput['sms'] = 'fallback',
  keepAcknowledged?: number,
) {
  const dir = tempDir();
  const bench = await alarmsBench({
    dir,
    rule: { sms: ruleSms, cooldownSec: 30 }, // the schema's default cooldown
    alarms,
    downForMs,
    ports: { keepAcknowledged },
  });
  const { alarms: alarmsSvc, clock, events, texts } = bench;
  const press = async () => {
    const raised = () => events.filter((e) => e.type === 'alert.raised').length;
    const before = raised();
    bench.deliver(bench.pressEvent());
    await waitUntil(() => raised() > before, 2000, 'the alert');
  };
  const settle = async () => {
    await alarmsSvc.checkSms();
    await alarmsSvc.sms!.pump();
  };
  return { alarmsSvc, clock, events, texts, press, settle, dir, stop: () => alarmsSvc.stop() };
}

describe('escalation and SMS fallback (fake clock)', () => {
  it('remembers at most the newest 200 acknowledged alerts, however recent', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    const alert = (i: number, acked: boolean) => ({
      alertId: `a${i}`,
      ackedAt: acked ? new Date(now - i * 1000).toISOString() : null,
    });
    const alerts = [...Array.from({ length: 205 }, (_, i) => alert(i, true)), alert(999, false)] as StoredAlert[];
    expect(acknowledgedToForget(alerts)).toEqual(['a200', 'a201', 'a202', 'a203', 'a204']);
  });

  it('remembers only the newest acknowledged alerts (alarms.json stays small), never forgets an open one', async () => {
    const t = await setup({ escalateAfterSec: 0, smsWhenUplinkDownSec: 3600 }, () => null, 'fallback', 1);
    const raised = () => t.events.filter((e) => e.type === 'alert.raised').map((e) => e.id);
    const stored = () =>
      (JSON.parse(readFileSync(join(t.dir, 'alarms.json'), 'utf8')) as { alerts: { alertId: string }[] }).alerts.map(
        (a) => a.alertId,
      );
    for (let i = 0; i < 3; i++) {
      await t.press();
      t.clock.advance(60_000); // past the rule's cooldown
    }
    const [first, second, open] = raised() as [string, string, string];
    await t.alarmsSvc.acknowledge(first, 'county');
    expect(stored()).toEqual([first, second, open]);
    t.clock.advance(1000);
    await t.alarmsSvc.acknowledge(second, 'county'); // the newer ack: the older is forgotten (keep 1 here)
    expect(stored()).toEqual([second, open]);
    await expect(t.alarmsSvc.acknowledge(second, 'county')).resolves.toMatchObject({ alreadyAcknowledged: true });
    await expect(t.alarmsSvc.acknowledge(first, 'county')).rejects.toMatchObject({ code: 'UNKNOWN_ALERT' });
    t.clock.advance(400 * 24 * 3600_000); // a year on: the open alert is still there
    await t.press();
    expect(stored()).toEqual(expect.arrayContaining([second, open]));
    t.stop();
  });

  it('escalates an unacknowledged alert once escalateAfterSec has passed, once', async () => {
    const t = await setup({ escalateAfterSec: 120, smsWhenUplinkDownSec: 60 }, () => null);
    await t.press();
    t.clock.advance(119_000);
    await t.settle();
    expect(t.texts).toEqual([]);
    t.clock.advance(1_000);
    await t.settle();
    await t.settle();
    expect(t.texts).toEqual([expect.stringMatching(/^Qingshan: Panic at house 7 \(house-7-panic, \d\d:\d\d\)$/)]);
    t.stop();
  });

  it('an acknowledgement stops the escalation', async () => {
    const t = await setup({ escalateAfterSec: 120 }, () => null);
    await t.press();
    const alert = t.events.find((e) => e.type === 'alert.raised')!;
    t.clock.advance(60_000);
    await t.alarmsSvc.acknowledge(alert.id, 'county');
    t.clock.advance(600_000);
    await t.settle();
    expect(t.texts).toEqual([]);
    t.stop();
  });

  it('falls back to SMS once the uplink has been down long enough; never means never', async () => {
    let down: number | null = 30_000;
    const t = await setup({ escalateAfterSec: 0, smsWhenUplinkDownSec: 60 }, () => down);
    await t.press();
    await t.settle();
    expect(t.texts).toHaveLength(0); // down 30 s: not yet
    down = 61_000;
    await t.settle();
    await t.settle();
    expect(t.texts).toHaveLength(1);
    t.stop();
    const never = await setup({ escalateAfterSec: 1, smsWhenUplinkDownSec: 0 }, () => 999_999, 'never');
    await never.press();
    never.clock.advance(10_000);
    await never.settle();
    expect(never.texts).toHaveLength(0);
    never.stop();
  });
});

describe('the sms action', () => {
  it("sends the rule's own text to its own numbers", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const sent: { to: string; text: string }[] = [];
    const listeners: ((e: GatewayEvent) => void)[] = [];
    const make = eventMaker(dir, clock);
    const config = testConfig('mqtt://127.0.0.1:1', dir, {
      rules: [
        {
          id: 'door-night',
          when: { type: 'door.opened' },
          actions: [{ do: 'sms', to: ['+8613900000000'], text: '仓库门被打开' }],
        },
      ],
    });
    const svc = new LocalAlarms({
      config,
      clock,
      logger: quietLogger(),
      emit: async (input) => ({ ...make(input.priority, 0), type: input.type, deviceId: input.deviceId }),
      write: async () => {},
      subscribe: (l) => (listeners.push(l), () => {}),
      on: () => () => {}, // no key switch here
      uplinkDownForMs: () => null,
      smsSender: () => ({
        ready: true,
        sendSms: async (to, text) => (sent.push({ to, text }), { parts: 1, references: [7], encoding: 'ucs2' }),
      }),
    });
    await svc.start();
    for (const l of listeners) l({ ...make('high', 0), type: 'door.opened', deviceId: 'storehouse-door' });
    await waitUntil(() => sent.length > 0, 2000, "the rule's SMS"); // queued, then sent by the queue
    expect(sent).toEqual([{ to: '+8613900000000', text: '仓库门被打开' }]);
    svc.stop();
  });
});
