/**
 * Every resident press can be acknowledged, rule or not (agent/alarms/press-alerts.ts): a press
 * no rule raised an alert for raises one of its own (rule `press`), the county acknowledges it
 * and the button's "help is coming" LED lights. Against a real broker and a simulated relay board.
 */
import { describe, expect, it } from 'vitest';
import type { RuleInput } from '../helpers/config-input.js';
import { testConfig } from '../helpers/agent-config.js';
import { countyCommand } from '../helpers/county-command.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { startBoard } from '../helpers/field-peers.js';
import { AgentRig, house7Board } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const LED_COIL = 1; // relay2

let villages = 0;
async function village(rules: RuleInput[]) {
  const n = ++villages;
  const county = await startCounty(brokerRef.current.url, cleanup, `county-press-${n}`);
  const { sim, board } = await startBoard(cleanup, 'waveshare-modbus-rtu-relay-d');
  const dir = tempDir();
  const config = testConfig(brokerRef.current.url, dir, {
    gateway: { id: `gw-press-${n}` },
    ...house7Board(sim.port, {}, 200),
    rules,
  });
  const rig = new AgentRig(config, dir);
  const check = new DeliveryCheck(county).watch(rig.agent);
  await rig.agent.start();
  cleanup(() => rig.agent.stop());
  await waitUntil(() => board.reads > 2, 5000, 'polling');
  const press = async () => {
    const before = rig.of('house-7-panic', 'alarm.pressed').length;
    board.set('di2', true);
    await waitUntil(() => rig.of('house-7-panic', 'alarm.pressed').length > before, 3000, 'the press');
    board.set('di2', false);
    await waitUntil(() => rig.of('house-7-panic', 'alarm.released').length > before, 3000, 'the release');
  };
  const alerts = () => rig.events.filter((e) => e.type === 'alert.raised');
  return { sim, rig, county, check, press, alerts, gatewayId: `gw-press-${n}` };
}

describe('a press no rule raised an alert for', () => {
  it('raises its own alert; the county acknowledges it and the LED lights; presses meanwhile are that alert', async () => {
    const v = await village([]);
    await v.press();
    await waitUntil(() => v.alerts().length === 1, 3000, 'the press alert');
    const alert = v.alerts()[0]!;
    expect(alert).toMatchObject({
      priority: 'critical',
      deviceId: 'house-7-panic',
      data: { rule: 'press', message: 'alarm button pressed', reason: 'no rule raised an alert for this press' },
    });
    const firstPress = v.rig.of('house-7-panic', 'alarm.pressed')[0]!;
    expect((alert.data as { causes: { id: string }[] }).causes.map((c) => c.id)).toEqual([firstPress.id]);
    // Pressing again before anyone answered: still the one alert.
    await v.press();
    await v.press();

    await v.county.waitFor(() => v.county.events.has(alert.id), 10_000);
    expect(
      await countyCommand(v.county, v.gatewayId, 'ack', { id: 'ack-1', args: { alertId: alert.id } }),
    ).toMatchObject({
      ok: true,
      result: { alertId: alert.id, led: 'house-7-board.relay2' },
    });
    await waitUntil(() => v.sim.writes.some((w) => w.address === LED_COIL && w.value === true), 3000, 'the LED');
    expect(v.alerts()).toHaveLength(1);

    // Once help is acknowledged, a new press is a new call for help.
    await v.press();
    await waitUntil(() => v.alerts().length === 2, 3000, 'a second press alert');
    await v.check.expectAllDelivered();
  });

  it('a rule that raised an alert for the press is the only alert', async () => {
    const v = await village([
      {
        id: 'panic-button',
        when: { type: 'alarm.pressed' },
        actions: [{ do: 'alert', message: 'Panic at house 7' }],
      },
    ]);
    await v.press();
    await waitUntil(() => v.alerts().length >= 1, 3000, 'the rule alert');
    await v.press(); // within the rule's cooldown: no new alert, and its open alert stands for this press
    await new Promise((r) => setTimeout(r, 300));
    expect(v.alerts().map((e) => (e.data as { rule: string }).rule)).toEqual(['panic-button']);
    await v.check.expectAllDelivered();
  });
});
