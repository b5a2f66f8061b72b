/**
 * A resident pressed, the gateway lost power, the link is still down when it comes back: the
 * alarm stored by the previous run, never acknowledged by the broker, goes by SMS
 * `mqtt.alarmRetry.ackTimeoutMs` after the restart (alarm-deadlines.ts), not after the
 * uplink-down delay meant for flaps, and only once: an SMS already sent (recorded in
 * alarms.json) is not sent again at the next restart. Real restarts on the same data folder,
 * the panel on Modbus TCP, an AT modem on a pty pair, a broker address nobody listens on.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/brokers/free-port.js';
import { testConfig } from '../helpers/agent-config.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { startModem } from '../helpers/sms-village.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { gsmModem } from '../helpers/village-config.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const ACK_TIMEOUT_MS = 3000;

describe('alarms from before a restart keep their SMS deadline', () => {
  it('an undelivered press goes by SMS after the restart with the link down; an SMS already sent does not go twice', async () => {
    const dataDir = tempDir();
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const modem = await startModem(cleanup);
    const { buses, devices, rules } = panel.config();
    const config = testConfig(`mqtt://127.0.0.1:${await freePort()}`, dataDir, {
      gateway: { id: 'gw-restart-sms', name: 'Qingshan' },
      mqtt: { alarmRetry: { ackTimeoutMs: ACK_TIMEOUT_MS } },
      buses,
      devices: [...devices, gsmModem(modem.pty.b)],
      rules,
      // Far beyond the test: only the alarm's own deadline can send the SMS.
      alarms: { smsTo: ['13800138000'], smsWhenUplinkDownSec: 3600, escalateAfterSec: 3600 },
    });
    const run = async () => {
      const rig = new AgentRig(config, dataDir);
      await rig.agent.start();
      cleanup(() => rig.agent.stop());
      return rig;
    };

    // Pressed, stored, and the gateway goes down before the alarm's deadline.
    const first = await run();
    panel.board.set('di1', true);
    await first.waitFor((e) => e.type === 'alert.raised', 5000, 'the alert');
    panel.board.set('di1', false);
    await first.agent.stop();
    expect(modem.sim.sent, 'nothing sent before the restart').toHaveLength(0);

    // Back with the link still down: the press from before goes by SMS on its deadline.
    const second = await run();
    const started = Date.now();
    expect(second.agent.observe.backlog().backlog.critical.count).toBeGreaterThan(0);
    await waitUntil(() => modem.sim.sent.length >= 1, 20_000, 'the SMS for the press before the restart');
    expect(Date.now() - started).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 500);
    expect(modem.sim.sent[0]!.text).toMatch(/^Qingshan: panic button pressed \(house-1-panic, /);
    await waitUntil(() => second.agent.observe.alarms().smsPending.length === 0, 10_000, 'the SMS queue empty');
    await second.agent.stop();

    // Once more: alarms.json says the SMS went, so the same alarm sends nothing more.
    const third = await run();
    await new Promise((r) => setTimeout(r, ACK_TIMEOUT_MS * 2)); // an absence: past the deadline a second SMS would keep
    expect(third.agent.observe.alarms().alerts.every((a) => a.smsSentAt !== null)).toBe(true);
    expect(modem.sim.sent).toHaveLength(1);
  });
});
