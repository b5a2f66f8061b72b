/**
 * SMS fallback and escalation through the simulated modem (pty pair), a restart with an
 * active alarm, and the local acknowledgement key.
 */
import { describe, expect, it } from 'vitest';
import type { ModbusSimulator } from '../../scripts/simulators/modbus-simulator.js';
import { ucs2Hex } from '../../drivers/modem/sms-encoding.js';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { startBoard } from '../helpers/field-peers.js';
import { startModem, type VillageModem } from '../helpers/sms-village.js';
import { gsmModem, ioBoard, tcpBus } from '../helpers/village-config.js';
import type { AlarmsInput } from '../helpers/config-input.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

interface VillageOptions {
  /** The uplink starts cut (the county hears nothing until `link.restore()`). */
  linkDown?: boolean;
  gatewayId?: string;
  dir?: string;
  alarms?: AlarmsInput;
  /** The panic rule's alert message (default: a short Chinese one). */
  message?: string;
  ruleSms?: 'fallback' | 'always' | 'never';
  sim?: ModbusSimulator;
  modem?: VillageModem;
  /** The county judging delivery: a new one unless given (a restart, a second gateway). */
  check?: DeliveryCheck;
  /** The agent's way to the broker: a new one unless given (a restart). */
  link?: TcpProxy;
}

let counties = 0;

/** The county on the broker, judging delivery. */
async function county(): Promise<DeliveryCheck> {
  const sub = await startCounty(brokerRef.current.url, cleanup, `county-sms-${++counties}`);
  return new DeliveryCheck(sub);
}

/** The agent reaches the broker through a link a test can cut. */
async function uplink(down: boolean): Promise<TcpProxy> {
  const link = await new TcpProxy({ targetPort: Number(new URL(brokerRef.current.url).port) }).start();
  cleanup(() => link.stop());
  if (down) link.cut();
  return link;
}

async function village(o: VillageOptions) {
  const sim = o.sim ?? (await startBoard(cleanup)).sim;
  const modem = o.modem ?? (await startModem(cleanup));
  const dir = o.dir ?? tempDir();
  const check = o.check ?? (await county());
  const link = o.link ?? (await uplink(o.linkDown ?? false));
  const config = testConfig(link.url, dir, {
    gateway: { id: o.gatewayId ?? 'gw-sms', name: '青山村', timezone: 'Asia/Shanghai' },
    buses: [tcpBus(sim.port, 200)],
    devices: [
      ioBoard({
        id: 'panel',
        inputs: {
          di1: { role: 'alarm-button', id: 'house-7-panic', led: 'do2' },
          di8: { role: 'ack-key', id: 'key-switch' },
        },
      }),
      gsmModem(modem.pty.b),
    ],
    rules: [
      {
        id: 'panic',
        when: { type: 'alarm.pressed' },
        cooldownSec: 300,
        sms: o.ruleSms ?? 'fallback',
        actions: [
          { do: 'output', device: 'panel', output: 'do1', action: 'pulse', durationMs: 3000 },
          { do: 'alert', message: o.message ?? '7号户按下了报警按钮' },
        ],
      },
    ],
    alarms: { smsTo: ['13800138000'], smsWhenUplinkDownSec: 0, escalateAfterSec: 3600, ...o.alarms },
  });
  const rig = new AgentRig(config, dir);
  check.watch(rig.agent);
  await rig.agent.start();
  cleanup(() => rig.agent.stop());
  await waitUntil(() => rig.agent.drivers[1]!.describe().online, 5000, 'the modem');
  return { sim, unit: sim.unit(1), modem, rig, dir, check, link };
}

describe('SMS, escalation, restart', () => {
  it('uplink down: a press goes out by SMS, Chinese text as UCS2 through the > prompt', async () => {
    const { unit, modem, rig, check, link } = await village({ linkDown: true });
    unit.set('di1', true);
    await waitUntil(() => modem.sim.sent.length > 0, 10_000, 'the SMS');
    expect(modem.sim.sent[0]).toMatchObject({
      number: '13800138000',
      charset: 'UCS2',
      rawNumber: ucs2Hex('13800138000'),
    });
    expect(modem.sim.sent[0]!.text).toMatch(/^青山村: 7号户按下了报警按钮 \(house-7-panic, \d\d:\d\d\)$/);
    expect(modem.sim.commands).toContain(`AT+CMGS="${ucs2Hex('13800138000')}"`);
    const sent = await rig.waitFor((e) => e.type === 'sms.sent', 5000, 'sms.sent');
    expect(sent.data).toMatchObject({
      to: '13800138000',
      reason: expect.stringContaining('uplink down'),
      parts: 1,
      encoding: 'ucs2',
    });
    expect(modem.sim.sent).toHaveLength(1); // once per alert
    link.restore(); // the press, the alert and the SMS record reach the county afterwards
    await check.expectAllDelivered();
  });

  it('alarms.smsLanguage zh-CN: the text around the message is Chinese, sent as UCS2 in parts of 70 at most', async () => {
    const message = `7号户按下了报警按钮，${'老人独居，请村医和值班干部一起去。'.repeat(7)}`;
    const { unit, modem, rig } = await village({ linkDown: true, alarms: { smsLanguage: 'zh-CN' }, message });
    unit.set('di1', true);
    const sent = await rig.waitFor((e) => e.type === 'sms.sent', 10_000, 'sms.sent');
    // 【青山村】 + 130 characters + （house-7-panic，hh:mm）: 156 UTF-16 units, 62 a part after "(i/3) ".
    expect(sent.data).toMatchObject({ to: '13800138000', encoding: 'ucs2', parts: 3 });
    const parts = modem.sim.sent;
    expect(parts).toHaveLength(3);
    for (const [i, p] of parts.entries()) {
      expect(p).toMatchObject({ number: '13800138000', charset: 'UCS2' });
      expect(p.rawBody.length / 4, `part ${i + 1} in UTF-16 units`).toBeLessThanOrEqual(70);
      expect(p.text.startsWith(`(${i + 1}/3) `)).toBe(true);
    }
    const whole = parts.map((p) => p.text.replace(/^\(\d\/3\) /, '')).join('');
    expect(whole).toMatch(new RegExp(`^【青山村】${message}（house-7-panic，\\d\\d:\\d\\d）$`));
  });

  it('retries on a retryable +CMS ERROR, and records a permanent one as failed', async () => {
    const { unit, modem, rig, check, link } = await village({ linkDown: true });
    modem.sim.failNext = [331]; // no network service: retried (first retry after 15 s)
    unit.set('di1', true);
    await waitUntil(
      () => rig.agent.observe.alarms().smsPending.some((m) => m.attempts === 1),
      10_000,
      'a failed first attempt',
    );
    await rig.agent.jobs.retrySmsNow(); // skip the backoff wait
    await waitUntil(() => modem.sim.sent.length === 1, 10_000, 'the retry');
    expect((await rig.waitFor((e) => e.type === 'sms.sent')).data).toMatchObject({ attempts: 1 });
    modem.sim.failNext = [1]; // unassigned number: not worth retrying
    await rig.agent.sendSms(['13900000000'], 'test', 'test');
    const failed = await rig.waitFor((e) => e.type === 'sms.failed', 10_000, 'sms.failed');
    expect(failed.data).toMatchObject({
      to: '13900000000',
      cms: 1,
      error: expect.stringContaining('unassigned number'),
    });
    link.restore();
    await check.expectAllDelivered();
  });

  it('escalates an alert nobody acknowledged; an acknowledged one stays quiet', async () => {
    const { unit, modem, rig, check } = await village({ alarms: { smsWhenUplinkDownSec: 3600, escalateAfterSec: 1 } });
    await waitUntil(() => rig.agent.observe.link().up, 5000, 'the uplink');
    unit.set('di1', true);
    await waitUntil(() => modem.sim.sent.length === 1, 10_000, 'the escalation SMS');
    expect((await rig.waitFor((e) => e.type === 'sms.sent')).data.reason).toMatch(/not acknowledged after 1 s/);
    unit.set('di1', false);
    // Another gateway (its own data dir, so its own seqs): same county.
    const second = await village({
      gatewayId: 'gw-sms-2',
      check,
      alarms: { smsWhenUplinkDownSec: 3600, escalateAfterSec: 2 },
    });
    await waitUntil(() => second.rig.agent.observe.link().up, 5000, 'the uplink');
    second.unit.set('di1', true);
    const raised = await second.rig.waitFor((e) => e.type === 'alert.raised');
    const seenAt = Date.now(); // the raise was before this
    await second.rig.agent.acknowledge(raised.id, 'county');
    // An absence, so a sleep: until the escalation would be due (2 s after the raise), then the
    // check the agent's timer runs every second, so its phase cannot hide an escalation.
    await new Promise((r) => setTimeout(r, Math.max(0, seenAt + 2000 - Date.now())));
    await second.rig.agent.jobs.checkSms();
    expect(second.rig.agent.observe.alarms().alerts.find((a) => a.alertId === raised.id)).toMatchObject({
      escalatedAt: null,
      smsSentAt: null,
    });
    expect(second.rig.agent.observe.alarms().smsPending).toHaveLength(0);
    expect(second.modem.sim.sent).toHaveLength(0);
    await check.expectAllDelivered(); // both gateways
  });

  it('keeps an active alarm across a restart: no re-fire, no silence, still acknowledgeable', async () => {
    const first = await village({ linkDown: true, alarms: { smsTo: [] } });
    first.unit.set('di1', true); // pressed, and held
    const raised = await first.rig.waitFor((e) => e.type === 'alert.raised');
    await waitUntil(() => first.unit.coils.get(0) === true, 2000, 'the strobe (gateway-timed pulse)');
    await first.rig.agent.stop(); // a restart mid-pulse: the driver ends its pulse on the way down
    expect(first.unit.coils.get(0)).toBe(false);
    const writesBefore = first.sim.writes.length;
    const second = await village({
      dir: first.dir,
      sim: first.sim,
      modem: first.modem,
      check: first.check,
      link: first.link,
      alarms: { smsTo: [] },
    });
    // No silence: the pulse that was cut short is resumed for what is left of it.
    await waitUntil(() => second.unit.coils.get(0) === true, 3000, 'the pulse resumed');
    // No re-fire: the held button is reported again (initial), but the rule is in cooldown.
    await second.rig.waitFor((e) => e.type === 'alarm.pressed' && e.data.initial === true, 3000, 'the held button');
    const panic = () => second.rig.agent.observe.alarms().rules['panic']!;
    await waitUntil(() => panic().suppressed + panic().fired > 0, 3000, 'the rule to judge the held button');
    expect(second.rig.of('house-7-panic', 'alert.raised')).toHaveLength(0);
    expect(panic()).toMatchObject({ suppressed: 1, fired: 0 });
    // State kept: the alert from before the restart is active and can be acknowledged.
    expect(second.rig.agent.observe.alarms().alerts.find((a) => a.alertId === raised.id)).toMatchObject({
      ackedAt: null,
    });
    const ack = await second.rig.agent.acknowledge(raised.id, 'county');
    expect(ack.led).toBe('panel.do2');
    expect(second.sim.writes.slice(writesBefore).some((w) => w.address === 1 && w.value === true)).toBe(true);
    second.link.restore(); // both boots' events, the first boot's through the second
    const v = await second.check.expectAllDelivered();
    expect(v.boots).toHaveLength(2);
  });

  it("a technician's key switch acknowledges every open alert locally", async () => {
    const { unit, rig, check, link } = await village({ linkDown: true, alarms: { smsTo: [] } });
    unit.set('di1', true);
    await rig.waitFor((e) => e.type === 'alert.raised');
    unit.set('di8', true);
    const ack = await rig.waitFor((e) => e.type === 'alert.acknowledged', 3000, 'the local ack');
    expect(ack.data).toMatchObject({ by: 'local key switch', led: 'panel.do2' });
    link.restore();
    await check.expectAllDelivered();
  });
});
