/**
 * Residents first, decided by the safety loop: alarm SMS go ahead of flow SMS and keep their
 * share of the hourly budget; an alarm the uplink says is late goes by SMS at once, once. With
 * a fake clock and our own ports (edges we own); the silent outage with real peers is in
 * test/faults/silent-outage-sms.test.ts, the flows' burst in test/nodered/flow-sms-budget.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import type { AlarmsInput, RuleInput } from '../helpers/config-input.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { alarmsBench, recordingSender } from '../helpers/alarms-bench.js';

const tempDir = useTempDirs();

type LateListener = (late: readonly { id: string }[], reason: string) => void;

async function village(o: { alarms?: AlarmsInput; ruleSms?: RuleInput['sms'] } = {}) {
  const dir = tempDir();
  const late: LateListener[] = [];
  const texts: string[] = [];
  const sender = recordingSender(texts);
  const bench = await alarmsBench({
    dir,
    rule: { sms: o.ruleSms ?? 'always' },
    alarms: o.alarms,
    // The uplink-down fallback never fires here (the default: always up): only the late-alarm port can.
    sender,
    ports: { onAlarmsLate: (l: LateListener) => (late.push(l), () => void late.splice(late.indexOf(l), 1)) },
  });
  const { alarms, clock, events } = bench;
  const press = async (): Promise<GatewayEvent> => {
    const pressed = bench.pressEvent();
    const before = events.length;
    bench.deliver(pressed);
    await waitUntil(() => events.slice(before).some((e) => e.type === 'alert.raised'), 2000, 'the alert');
    return pressed;
  };
  const flowAlerts = async (n: number) => {
    for (let i = 0; i < n; i++)
      await alarms.raiseFlowAlert({ deviceId: 'gw', message: `flow ${i}`, priority: 'high', sms: 'always' });
  };
  /** What the agent's timers do; then lets a send under way finish (the queue sends one at a time). */
  const drain = async (rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      await alarms.sms!.pump();
      await new Promise((r) => setTimeout(r, 10)); // a send started by enqueue() ends with a file write: no sign to wait on
    }
  };
  return { clock, alarms, events, texts, sender, late, press, flowAlerts, drain };
}

const isResident = (t: string) => t.includes('Panic at house 7');

describe('SMS: residents first', () => {
  it("a resident's SMS goes ahead of flow SMS queued before it", async () => {
    const v = await village();
    v.sender.ready = false; // the modem is registering: everything queues
    await v.flowAlerts(3);
    await v.press();
    await waitUntil(() => v.alarms.sms!.pending.some((m) => isResident(m.text)), 2000, "the resident's SMS queued");
    v.clock.advance(5_000); // the queue's wait for a modem that was not ready
    v.sender.ready = true;
    await v.drain(6);
    expect(v.texts).toHaveLength(4);
    expect(isResident(v.texts[0]!), `first out: ${v.texts[0]}`).toBe(true);
    v.alarms.stop();
  });

  it('flows spend at most their share of the hour; the rest stays for residents', async () => {
    const v = await village(); // smsPerHour 20: flows get a quarter, 5
    await v.flowAlerts(25);
    await v.drain(30);
    expect(v.texts).toHaveLength(5);
    await v.press();
    await v.drain(3);
    expect(v.texts.filter(isResident)).toHaveLength(1);
    expect(v.alarms.sms!.pending).toHaveLength(20); // the flows' other SMS wait for the next hour
    // What `status` shows of the hour: the flows' share spent, the residents' kept.
    expect(v.alarms.sms!.budget()).toEqual({
      perHour: 20,
      keptForAlarms: 15,
      flowShare: 5,
      alarmsUsed: 1,
      flowsUsed: 5,
      alarmsLeft: 14,
      flowsLeft: 0,
    });
    v.clock.advance(3600_001);
    await v.drain(8);
    expect(v.texts.filter((t) => !isResident(t))).toHaveLength(10);
    v.alarms.stop();
  });

  it('flowSmsPerHour sets the flows share; 0 keeps flows off SMS', async () => {
    const v = await village({ alarms: { flowSmsPerHour: 0 } });
    await v.flowAlerts(2);
    await v.press();
    await v.drain(5);
    expect(v.texts.map(isResident)).toEqual([true]);
    v.alarms.stop();
  });

  it('an alarm the uplink says is late goes by SMS at once, and only once', async () => {
    const v = await village({ ruleSms: 'fallback' });
    const pressed = await v.press();
    const alert = v.events.find((e) => e.type === 'alert.raised')!;
    await v.drain(2);
    expect(v.texts, 'nothing before the uplink says so').toHaveLength(0);
    expect(v.late).toHaveLength(1);
    v.late[0]!([{ id: pressed.id }], 'no PUBACK within 10000 ms'); // the press is late: its alert goes
    await waitUntil(() => v.alarms.sms!.pending.length + v.texts.length > 0, 2000, 'the SMS queued');
    await v.drain(2);
    expect(v.texts).toHaveLength(1);
    v.late[0]!([{ id: alert.id }], 'no PUBACK within 10000 ms'); // and its alert event too: no second SMS
    await v.alarms.checkSms();
    await v.drain(2);
    expect(v.texts).toHaveLength(1);
    expect(v.alarms.active.get(alert.id)).toMatchObject({ smsSentAt: expect.any(String) });
    v.alarms.stop();
    expect(v.late, 'stop() lets go of the port').toHaveLength(0);
  });

  it('a late alarm sends nothing for an acknowledged alert, nor for sms never', async () => {
    const v = await village({ ruleSms: 'never' });
    const pressed = await v.press();
    v.late[0]!([{ id: pressed.id }], 'late');
    await v.drain(2);
    expect(v.texts).toHaveLength(0);
    v.alarms.stop();
    const w = await village({ ruleSms: 'fallback' });
    const again = await w.press();
    const alert = w.events.find((e) => e.type === 'alert.raised')!;
    await w.alarms.acknowledge(alert.id, 'county');
    w.late[0]!([{ id: again.id }, { id: alert.id }], 'late');
    await w.drain(2);
    expect(w.texts).toHaveLength(0);
    w.alarms.stop();
  });
});

describe('SMS budget config', () => {
  const parse = (alarms: Record<string, unknown>) =>
    gatewayConfigSchema.safeParse({
      version: 1,
      gateway: { id: 'gw' },
      dataDir: '/tmp/x',
      mqtt: { url: 'mqtt://127.0.0.1:1' },
      alarms,
    });

  it('takes a flows share below smsPerHour, refuses one that leaves residents nothing', () => {
    expect(parse({ smsPerHour: 10, flowSmsPerHour: 9 }).success).toBe(true);
    const bad = parse({ smsPerHour: 10, flowSmsPerHour: 10 });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('flowSmsPerHour');
  });

  it("refuses a rule with the flows' rule id", () => {
    const r = gatewayConfigSchema.safeParse({
      version: 1,
      gateway: { id: 'gw' },
      dataDir: '/tmp/x',
      mqtt: { url: 'mqtt://127.0.0.1:1' },
      rules: [{ id: 'flow', when: { type: 'alarm.pressed' }, actions: [{ do: 'alert', message: 'x' }] }],
    });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain("'flow' and 'press' are taken");
  });
});
