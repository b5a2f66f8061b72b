/**
 * The "help is coming" LED's life end to end (alarms.helpLed), against real peers: a simulated
 * Waveshare relay board on Modbus TCP (its button on di2, its LED on relay2), a real broker and
 * the county's own MQTT client sending `ack` and `clear`. Lit at the ack; out after
 * offAfterSec, at `clear`, or when a button still held at the ack is let go; a restart keeps
 * the deadline. Before, the LED stayed lit until the agent restarted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/agent-config.js';
import type { HelpLedInput } from '../helpers/config-input.js';
import { startBoard } from '../helpers/field-peers.js';
import { AgentRig, house7Board } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { startCounty } from '../helpers/delivery.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const LED_COIL = 1; // relay2
const GW = 'gw-led';
let villages = 0;

interface Reply {
  id?: string;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

async function village(helpLed: HelpLedInput) {
  const county = await startCounty(brokerRef.current.url, cleanup, `county-led-${++villages}`);
  const replies: Reply[] = [];
  county.client!.on('message', (t, p) => t.includes('/cmd-reply/') && replies.push(JSON.parse(p.toString()) as Reply));
  await county.client!.subscribeAsync(`village/${GW}/cmd-reply/+`, { qos: 1 });
  const { sim, board } = await startBoard(cleanup, 'waveshare-modbus-rtu-relay-d');
  const dir = tempDir();
  const config = testConfig(brokerRef.current.url, dir, {
    gateway: { id: GW },
    ...house7Board(sim.port),
    rules: [
      { id: 'panic', when: { type: 'alarm.pressed' }, cooldownSec: 0, actions: [{ do: 'alert', message: 'help' }] },
    ],
    alarms: { helpLed },
  });
  let rig: AgentRig | null = null;
  const start = async () => {
    rig = new AgentRig(config, dir);
    const agent = rig.agent;
    cleanup(() => agent.stop());
    await agent.start();
    const reads = board.reads;
    await waitUntil(() => board.reads > reads + 2, 5000, 'polling');
    return rig;
  };
  await start();
  let sent = 0;
  /** Sends a command from the county's client; resolves with the gateway's reply. */
  const command = async (name: string, args: Record<string, unknown>): Promise<Reply> => {
    const id = `c${++sent}`;
    await county.client!.publishAsync(`village/${GW}/cmd/${name}`, JSON.stringify({ id, args }), { qos: 1 });
    await waitUntil(() => replies.some((r) => r.id === id), 5000, `the reply to ${name}`);
    return replies.find((r) => r.id === id)!;
  };
  const alerts = () => [...county.events.values()].filter((e) => e.type === 'alert.raised');
  /** A resident presses (and, unless `hold`, lets go); resolves with the alert's id as the county saw it. */
  const press = async (hold = false): Promise<string> => {
    const before = alerts().length;
    board.set('di2', true);
    await county.waitFor(() => alerts().length > before, 10_000);
    if (!hold) await release();
    return alerts().at(-1)!.id;
  };
  const release = async () => {
    board.set('di2', false);
    const reads = board.reads;
    await waitUntil(() => board.reads > reads + 3, 5000, 'the release polled');
  };
  const led = () => board.coils.get(LED_COIL) === true;
  /** Resolves with the county's `alert.led_off` for `alertId` (the county learns its LED went out, and why). */
  const ledOff = async (alertId: string) => {
    const find = () =>
      [...county.events.values()].find((e) => e.type === 'alert.led_off' && e.data?.['alertId'] === alertId);
    await county.waitFor(() => find() !== undefined, 10_000);
    return find()!.data;
  };
  return { command, press, release, led, ledOff, start, dir, board, rig: () => rig!, stop: () => rig!.agent.stop() };
}

describe('the "help is coming" LED', () => {
  it('lights at the ack and goes out after offAfterSec', async () => {
    const v = await village({ offAfterSec: 3 });
    const alertId = await v.press();
    expect(v.led()).toBe(false);
    const ackedAt = Date.now();
    expect(await v.command('ack', { alertId })).toMatchObject({ ok: true, result: { led: 'house-7-board.relay2' } });
    expect(v.led()).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    expect(v.led()).toBe(true); // not before its time
    await waitUntil(() => !v.led(), 5000, 'the LED out');
    const litMs = Date.now() - ackedAt;
    expect(litMs).toBeGreaterThanOrEqual(2900);
    expect(litMs).toBeLessThan(5500);
    expect(await v.ledOff(alertId)).toEqual({ alertId, led: 'house-7-board.relay2', why: 'time' });
  }, 30_000);

  it("goes out at the county's clear; clear names an unknown or unacknowledged alert", async () => {
    const v = await village({ offAfterSec: 3600 });
    const alertId = await v.press();
    await v.command('ack', { alertId });
    expect(v.led()).toBe(true);
    expect(await v.command('clear', { alertId })).toMatchObject({
      ok: true,
      result: { alertId, led: 'house-7-board.relay2', wasLit: true },
    });
    expect(v.led()).toBe(false);
    expect(await v.ledOff(alertId)).toMatchObject({ why: 'clear' });
    expect(await v.command('clear', { alertId })).toMatchObject({ ok: true, result: { led: null, wasLit: false } });

    const unknown = await v.command('clear', { alertId: 'no-such-alert' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_ALERT' } });
    expect(unknown.error!.message).toContain('alert.raised');
    const open = await v.press();
    const early = await v.command('clear', { alertId: open });
    expect(early).toMatchObject({ ok: false, error: { code: 'NOT_ACKNOWLEDGED' } });
    expect(early.error!.message).toMatch(/not acknowledged/);
    expect((await v.command('clear', {})).error!.code).toBe('INVALID_ARGS');
    expect(v.led()).toBe(false);
  }, 30_000);

  it('keeps its deadline across a restart: lit again after it (the board forgot it), out at the time set at the ack', async () => {
    const v = await village({ offAfterSec: 6 });
    const alertId = await v.press();
    const ackedAt = Date.now();
    await v.command('ack', { alertId });
    expect(v.led()).toBe(true);
    await v.stop();
    const saved = JSON.parse(readFileSync(join(v.dir, 'alarms.json'), 'utf8')) as {
      leds: { alertId: string; offAtMs: number }[];
    };
    expect(saved.leds).toEqual([expect.objectContaining({ alertId, device: 'house-7-board', output: 'relay2' })]);
    expect(Math.abs(saved.leds[0]!.offAtMs - (ackedAt + 6000))).toBeLessThan(1500);
    v.board.coils.set(LED_COIL, false); // the board lost power meanwhile: its LED went dark
    await new Promise((r) => setTimeout(r, 2000)); // the gateway is down for a while
    await v.start();
    await waitUntil(() => v.led(), 2000, 'the LED lit again');
    await waitUntil(() => !v.led(), 8000, 'the LED out');
    const litMs = Date.now() - ackedAt;
    // From the ack, not from the restart (that would be at least 2 s more).
    expect(litMs).toBeGreaterThanOrEqual(5500);
    expect(litMs).toBeLessThan(8000);
    await waitUntil(() => readLeds(v.dir) === 0, 3000, 'alarms.json without the LED');
  }, 40_000);

  it('goes out when a button held at the ack is let go (a latching button reset on site), not at a new press', async () => {
    const v = await village({ offAfterSec: 3600 });
    const held = await v.press(true);
    await v.command('ack', { alertId: held });
    expect(v.led()).toBe(true);
    await v.release(); // reset on site
    await waitUntil(() => !v.led(), 3000, 'the LED out at the reset');
    expect(await v.ledOff(held)).toMatchObject({ why: 'reset' });

    const momentary = await v.press(); // let go before the county answers
    await v.command('ack', { alertId: momentary });
    expect(v.led()).toBe(true);
    await v.press(); // pressed and let go again while help is coming
    await new Promise((r) => setTimeout(r, 500));
    expect(v.led()).toBe(true);
  }, 40_000);
});

function readLeds(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'alarms.json'), 'utf8')) as { leds: unknown[] }).leds.length;
}
