/**
 * The path a village exercises, end to end: a resident presses a panic button that a rule
 * reacts to, through the outbox and a real broker, to a county subscriber that checks every
 * id and each boot's seq sequence. The press must arrive as `alarm.pressed` even though the
 * rule's alert is captured (and committed) while the press is still being handled.
 */
import { describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { startBroker } from '../helpers/broker.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { startBoard } from '../helpers/field-peers.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { ioBoard, panicRule, tcpBus } from '../helpers/village-config.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

describe('a panic button with a rule, to the county', () => {
  it("delivers every alarm.pressed, alert and ack, with each boot's seqs contiguous, across a broker restart", async () => {
    // Persistence on, so the county's own session (its subscription) survives the restart.
    const broker = await startBroker({ persistence: true });
    cleanup(() => broker.dispose());
    const county = await startCounty(broker.url, cleanup, 'county-press');
    const check = new DeliveryCheck(county);

    const { sim, board } = await startBoard(cleanup);
    const dir = tempDir();
    const config = testConfig(broker.url, dir, {
      gateway: { id: 'gw-press' },
      buses: [tcpBus(sim.port, 200)],
      devices: [
        ioBoard({
          pollMs: 30,
          inputs: {
            di1: { role: 'alarm-button', id: 'house-1-panic', led: 'do8' },
            di2: { role: 'alarm-button', id: 'house-2-panic' },
          },
          outputs: { do7: { id: 'siren' } },
        }),
      ],
      rules: [panicRule({ pulseMs: 300 })],
    });
    const rig = new AgentRig(config, dir);
    check.watch(rig.agent);
    const commitOrder: number[] = [];
    rig.agent.observe.onStored((events) => commitOrder.push(...events.map((e) => e.seq)));
    await rig.agent.start();
    cleanup(() => rig.agent.stop());
    await waitUntil(() => board.reads > 2, 5000, 'polling');

    // A village's steady state: everything before the press delivered and acknowledged, so
    // the drain's reader stands in the critical queue when the press and its alert commit.
    // (Not a failure here if it never comes: the verdict at the end names what was lost.)
    const idle = () =>
      waitUntil(() => rig.agent.observe.backlog().total.count === 0, 3000, 'an empty backlog').catch(() => {});
    const press = async (input: 'di1' | 'di2', n: number) => {
      if (rig.agent.observe.link().up) await idle();
      board.set(input, true);
      await waitUntil(() => rig.events.filter((e) => e.type === 'alarm.pressed').length >= n, 3000, `press ${n}`);
      board.set(input, false);
      await waitUntil(() => rig.events.filter((e) => e.type === 'alarm.released').length >= n, 3000, `release ${n}`);
    };
    await press('di1', 1);
    await press('di2', 2);
    await broker.stop();
    await press('di1', 3); // while the broker is down
    await broker.start();

    const verdict = await check.expectAllDelivered(20_000);
    const pressed = check.checker.events().filter((e) => e.type === 'alarm.pressed');
    expect(pressed.map((e) => e.deviceId)).toEqual(['house-1-panic', 'house-2-panic', 'house-1-panic']);
    expect(check.checker.events().filter((e) => e.type === 'alert.raised')).toHaveLength(3);
    expect(verdict.boots).toHaveLength(1);
    expect(verdict.boots[0]).toMatchObject({ anchored: true, missing: [] });
    // The rule's alert is captured while the press is handled, yet commits after it.
    expect(commitOrder).toEqual([...commitOrder].sort((a, b) => a - b));
  });
});
