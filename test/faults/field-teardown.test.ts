/**
 * Teardown with a bound: Agent.stop() must finish, and close the outbox, even when a part
 * of the field does not let go: a Modbus TCP gateway that hung (its process frozen: the
 * kernel acknowledges, nobody finishes the close), a driver still ending a pulse on a unit
 * that went silent. What the agent committed before it stopped is delivered on the next boot.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { profileEventType } from '../../core/contracts/events/catalogue.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { startBoard } from '../helpers/field-peers.js';
import { FieldRig } from '../helpers/field-rig.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useUnhandled } from '../helpers/unhandled.js';
import { waitUntil } from '../helpers/wait.js';
import { tcpBus, ioBoard } from '../helpers/village-config.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const unhandled = useUnhandled();

const SIM_CLI = fileURLToPath(new URL('../../dist/scripts/simulators/modbus-simulator-cli.js', import.meta.url));
/** Agent.stop()'s limit for drivers (3 s) and buses, with room for a busy 2-core machine. */
const STOP_BOUND_MS = 3000 + 2500;

async function countyCheck(): Promise<DeliveryCheck> {
  const county = await startCounty(brokerRef.current.url, cleanup);
  return new DeliveryCheck(county);
}

/** A Modbus TCP gateway in a process of its own (dist/, built by `npm test`'s pretest). */
async function gatewayProcess(port: number) {
  const proc = spawn(process.execPath, [SIM_CLI, '--port', String(port), '--unit', '1:waveshare-modbus-rtu-io-8ch'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let failed: Error | null = null;
  proc.on('error', (err) => (failed = err));
  cleanup(() => {
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil(
    () => failed !== null || out.includes('"listening"') || proc.exitCode !== null,
    10_000,
    'the gateway process listening',
  );
  if (failed || proc.exitCode !== null)
    throw new Error(
      `the simulator process did not start (exit ${String(failed ?? proc.exitCode)}; is dist/ built? npm run build)`,
    );
  return proc;
}

function config(dir: string, gatewayId: string, port: number, timeoutMs: number, url = brokerRef.current.url) {
  return testConfig(url, dir, {
    gateway: { id: gatewayId },
    buses: [tcpBus(port, timeoutMs)],
    devices: [
      ioBoard({
        id: 'panel',
        pollMs: 100,
        inputs: { di1: { role: 'alarm-button', id: 'panic-1' } },
        outputs: { do2: { id: 'strobe' } },
      }),
    ],
  });
}

/** An event offered after stop(): the outbox is closed, so it must be refused. */
const emitAfterStop = (rig: FieldRig, gatewayId: string) =>
  rig.agent.emit({ deviceId: gatewayId, type: profileEventType('test.after_stop'), priority: 'normal', data: {} });

describe('teardown with a bound', () => {
  it(
    'a hung Modbus TCP gateway never finishes the close: the bus gives up, stop() returns, the outbox is closed',
    { timeout: 30_000 },
    async () => {
      const port = await freePort();
      const gateway = await gatewayProcess(port);
      const check = await countyCheck();
      const dir = tempDir();
      const gatewayId = `gw-hung-${randomUUID().slice(0, 8)}`;
      const rig = new FieldRig(config(dir, gatewayId, port, 300), dir);
      check.watch(rig.agent);
      await rig.agent.start();
      cleanup(() => rig.agent.stop());
      await waitUntil(() => rig.agent.drivers[0]!.describe().online, 5000, 'the panel polled');
      await check.expectAllDelivered(); // what was committed so far reached the county

      gateway.kill('SIGSTOP'); // hung: the connection stays up, nothing answers, nothing closes
      const started = Date.now();
      await rig.agent.stop();
      expect(Date.now() - started, 'stop() within its bound').toBeLessThan(STOP_BOUND_MS);
      await expect(emitAfterStop(rig, gatewayId)).rejects.toThrow(/closed/);
      expect(rig.logged('did not close in time'), 'the forced close is logged').not.toHaveLength(0);
      expect(unhandled.errors).toEqual([]);
    },
  );

  it(
    'a driver still ending a pulse on a silent unit: stop() goes on without it, names it, and a second stop() is the same shutdown',
    { timeout: 30_000 },
    async () => {
      const { sim, board: unit } = await startBoard(cleanup);
      const check = await countyCheck();
      const dir = tempDir();
      const gatewayId = `gw-late-${randomUUID().slice(0, 8)}`;
      const cfg = config(dir, gatewayId, sim.port, 6000); // a slow radio link to the unit: long timeouts
      const rig = new FieldRig(cfg, dir);
      check.watch(rig.agent);
      await rig.agent.start();
      cleanup(() => rig.agent.stop());
      await waitUntil(() => unit.reads > 2, 5000, 'the panel polled');
      unit.set('di1', true);
      await rig.waitFor((e) => e.deviceId === 'panic-1' && e.type === 'alarm.pressed', 3000, 'a press');
      await rig.agent.write({ deviceId: 'panel', output: 'do2', action: 'pulse', durationMs: 60_000 }); // timed by the gateway
      expect(unit.coils.get(1)).toBe(true);

      unit.dead = true; // the unit stops answering: ending the pulse at shutdown takes the full 6 s timeout
      const started = Date.now();
      const first = rig.agent.stop();
      const second = rig.agent.stop();
      expect(second, 'the same shutdown').toBe(first);
      await second;
      expect(Date.now() - started, 'stop() within its bound, not the unit timeout').toBeLessThan(STOP_BOUND_MS);
      const late = rig.logs.find((l) => Array.isArray(l.parts) && (l.parts as string[]).includes('device panel'));
      expect(late?.msg, 'the driver that did not stop in time is named').toMatch(
        /did not stop within 3000 ms: device panel/,
      );
      await expect(emitAfterStop(rig, gatewayId)).rejects.toThrow(/closed/);

      // Next boot on the same data: anything committed and not yet sent goes now.
      unit.dead = false;
      const next = new FieldRig(cfg, dir);
      check.watch(next.agent);
      await next.agent.start();
      cleanup(() => next.agent.stop());
      await check.expectAllDelivered();
      expect(unhandled.errors).toEqual([]);
    },
  );

  it('a pulse whose "on" is still on the wire when stop() starts is ended too', async () => {
    const { sim, board: unit } = await startBoard(cleanup);
    const dir = tempDir();
    const rig = new FieldRig(config(dir, 'gw-pulse', sim.port, 2000, 'mqtt://127.0.0.1:1'), dir); // no broker: this is about the coil
    await rig.agent.start();
    cleanup(() => rig.agent.stop());
    await waitUntil(() => unit.reads > 2, 5000, 'the panel polled');
    unit.replyDelayMs = 300; // the board is slow to confirm: the "on" is in flight when the restart comes
    const pulse = rig.agent.write({ deviceId: 'panel', output: 'do2', action: 'pulse', durationMs: 60_000 });
    await rig.agent.stop();
    await pulse;
    expect(
      sim.writes.filter((w) => w.address === 1).map((w) => w.value),
      'on, then off at stop',
    ).toEqual([true, false]);
    expect(unit.coils.get(1)).toBe(false);
    expect(unhandled.errors).toEqual([]);
  });
});
