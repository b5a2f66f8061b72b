/**
 * Residents first: a Node-RED flow raising alerts with `sms: always` as fast as the agent lets
 * it cannot spend the SMS budget residents' alarms need, nor queue ahead of them. The village
 * has a small plan (smsPerHour 4: flows may spend a quarter, 1). Once the flow has raised 4
 * alerts (the whole hourly budget, were it shared), a resident presses: the siren sounds and
 * the resident's SMS reaches the modem while the flow's SMS still wait.
 *
 * Real peers: Mosquitto, the Node-RED child with our nodes, the panel on Modbus TCP, an AT
 * modem on a socat pty pair.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { SMS_TO, smsVillageConfig, startModem } from '../helpers/sms-village.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const FLOW_TEXT = 'the flow says hello';

/**
 * Alerts as fast as the flows' request limits let them through without a refusal: three at
 * once (the alert burst), then one every 11 s (6 a minute), each always going by SMS.
 */
const spammingFlow = [
  { id: 'tab1', type: 'tab', label: 'spam' },
  { id: 'start', z: 'tab1', type: 'inject', once: true, onceDelay: 0.1, repeat: '', wires: [['three']] },
  { id: 'three', z: 'tab1', type: 'function', func: 'return [[msg, msg, msg]];', outputs: 1, wires: [['text']] },
  { id: 'tick', z: 'tab1', type: 'inject', once: false, repeat: '11', wires: [['text']] },
  {
    id: 'text',
    z: 'tab1',
    type: 'change',
    rules: [{ t: 'set', p: 'payload', pt: 'msg', to: FLOW_TEXT, tot: 'str' }],
    wires: [['alert']],
  },
  { id: 'alert', z: 'tab1', type: 'village alert', message: '', priority: 'high', sms: 'always', wires: [[]] },
];

describe("flows' SMS budget", () => {
  it("a flow spending its SMS budget neither blocks nor delays a resident's SMS", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node-red'), { recursive: true });
    writeFileSync(join(dir, 'node-red', 'flows.json'), JSON.stringify(spammingFlow));
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const modem = await startModem(cleanup);
    const agent = villageAgent({
      url: brokerRef.current.url,
      dir,
      panel,
      gatewayId: 'gw-flow-sms',
      over: {
        ...smsVillageConfig(panel, modem, { ruleSms: 'always', alarms: { smsPerHour: 4 } }),
        nodeRed: {
          port: 0,
          users: [{ username: 'tech', password: 'tech-password' }],
          credentialSecret: 'secret-for-tests',
        },
      },
    });
    const flowAlerts: string[] = [];
    agent.observe.onEvent((e) => {
      if (e.type === 'alert.raised' && (e.data as { rule: string }).rule === 'flow') flowAlerts.push(e.id);
    });
    await agent.start();
    cleanup(() => agent.stop());
    await waitUntil(() => agent.observe.nodeRed()?.state === 'running', 60_000, 'Node-RED running'); // slow on a loaded machine

    // Three at once, the fourth 11 s later.
    await waitUntil(() => flowAlerts.length >= 4, 45_000, 'the flow raising 4 alerts');
    const flowSms = () => modem.sim.sent.filter((m) => m.text.includes(FLOW_TEXT)).length;
    await waitUntil(() => flowSms() >= 1, 15_000, "the flow's first SMS");

    const pressedAt = Date.now();
    expect(await panel.press('di1'), 'the siren sounds').toBe(true);
    await waitUntil(
      () => modem.sim.sent.some((m) => m.text.includes('panic button pressed')),
      30_000,
      "the resident's SMS",
    );
    const residentMs = Date.now() - pressedAt;
    expect(residentMs).toBeLessThan(30_000);
    expect(modem.sim.sent.find((m) => m.text.includes('panic button pressed'))).toMatchObject({ number: SMS_TO });
    // The flow spent its share (a quarter of 4): its other SMS wait for the next hour, behind nobody's alarm.
    expect(flowSms()).toBe(1);
    const pending = agent.observe.alarms().smsPending;
    expect(pending.length).toBeGreaterThanOrEqual(3);
    expect(pending.every((m) => m.text.includes(FLOW_TEXT))).toBe(true);
  });
});
