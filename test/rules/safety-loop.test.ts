/**
 * The local safety loop end to end, against real peers: a simulated Modbus button, the
 * simulated relay board's siren and LED coils, a real broker, the county's ack command.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { startBoard } from '../helpers/field-peers.js';
import { AgentRig, house7Board } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const SIREN_FLASH = 0x0200; // relay1's own timed pulse on the Waveshare board
const LED_COIL = 1; // relay2
const STROBE_COIL = 2; // relay3

let villages = 0;

/**
 * A village: the relay board, the agent, and the county listening on the broker. The agent
 * reaches the broker through a link the test can cut; `linkDown` starts it cut.
 */
async function village({ linkDown = false } = {}) {
  const county = await startCounty(brokerRef.current.url, cleanup, `county-loop-${++villages}`);
  const link = await new TcpProxy({ targetPort: Number(new URL(brokerRef.current.url).port) }).start();
  cleanup(() => link.stop());
  if (linkDown) link.cut();
  const { sim, board } = await startBoard(cleanup, 'waveshare-modbus-rtu-relay-d');
  const dir = tempDir();
  const config = testConfig(link.url, dir, {
    gateway: { id: 'gw-loop', timezone: 'Asia/Shanghai' },
    ...house7Board(
      sim.port,
      { tags: ['panic-button'], outputs: { relay1: { id: 'siren' }, relay3: { id: 'strobe', remote: true } } },
      200,
    ),
    rules: [
      {
        id: 'panic-button',
        when: { type: 'alarm.pressed', tags: ['panic-button'] },
        cooldownSec: 60,
        actions: [
          { do: 'output', device: 'house-7-board', output: 'relay1', action: 'pulse', durationMs: 5000 },
          { do: 'alert', message: 'Panic button pressed at house 7' },
        ],
      },
    ],
  });
  const rig = new AgentRig(config, dir);
  const check = new DeliveryCheck(county).watch(rig.agent);
  await rig.agent.start();
  cleanup(() => rig.agent.stop());
  await waitUntil(() => board.reads > 2, 5000, 'polling');
  return { sim, board, rig, county, check, link };
}

describe('the local safety loop', () => {
  it('press -> siren -> alert at the county -> ack -> "help is coming" LED', async () => {
    const { sim, board, rig, county, check } = await village();
    const pressedAt = performance.now();
    board.set('di2', true);
    await waitUntil(() => sim.writes.some((w) => w.address === SIREN_FLASH), 2000, 'the siren');
    const sirenMs = sim.writes.find((w) => w.address === SIREN_FLASH)!.atMs - pressedAt;
    expect(sirenMs).toBeLessThan(500); // one poll (50 ms) and a write, on a shared machine
    await county.waitFor(() => [...county.events.values()].some((e) => e.type === 'alert.raised'), 10_000);
    const alert = [...county.events.values()].find((e) => e.type === 'alert.raised')!;
    expect(alert).toMatchObject({
      priority: 'critical',
      deviceId: 'house-7-panic',
      data: { rule: 'panic-button', message: 'Panic button pressed at house 7' },
    });

    const replies: Record<string, unknown>[] = [];
    county.client!.on('message', (t, p) => t.includes('/cmd-reply/') && replies.push(JSON.parse(p.toString())));
    await county.client!.subscribeAsync('village/gw-loop/cmd-reply/+', { qos: 1 });
    await county.client!.publishAsync(
      'village/gw-loop/cmd/ack',
      JSON.stringify({ id: 'a1', args: { alertId: alert.id } }),
      { qos: 1 },
    );
    await waitUntil(() => replies.some((r) => r.id === 'a1'), 5000, 'the ack reply');
    expect(replies.find((r) => r.id === 'a1')).toMatchObject({
      ok: true,
      result: { alertId: alert.id, led: 'house-7-board.relay2' },
    });
    expect(sim.writes.filter((w) => w.address === LED_COIL)).toEqual([expect.objectContaining({ fc: 5, value: true })]);
    await county.waitFor(() => [...county.events.values()].some((e) => e.type === 'alert.acknowledged'), 10_000);
    expect(rig.agent.observe.alarms().alerts.find((a) => a.alertId === alert.id)).toMatchObject({ ackedBy: 'county' });
    // The press itself reached the county too, not only the alert it caused.
    const v = await check.expectAllDelivered();
    expect(v.committed).toBeGreaterThanOrEqual(4); // started, the press, the alert, its acknowledgement
    expect([...county.events.values()].filter((e) => e.type === 'alarm.pressed')).toHaveLength(1);
  });

  it('rejects unknown, malformed and unauthorized commands with a reply, and actuates nothing', async () => {
    const { sim, check, county: countySide } = await village();
    const county = await mqtt.connectAsync(brokerRef.current.url, { clientId: 'county-bad-cmds' });
    cleanup(() => county.endAsync());
    const replies: Record<string, unknown>[] = [];
    county.on('message', (_t, p) => replies.push(JSON.parse(p.toString())));
    await county.subscribeAsync('village/gw-loop/cmd-reply/+', { qos: 1 });
    const send = (name: string, body: string) => county.publishAsync(`village/gw-loop/cmd/${name}`, body, { qos: 1 });
    const before = sim.writes.length;
    const sentAt = Date.now();
    await send(
      'output',
      JSON.stringify({ id: 'b1', sentAt, args: { device: 'house-7-board', output: 'relay1', action: 'on' } }),
    ); // siren: not remote
    await send(
      'output',
      JSON.stringify({ id: 'b2', sentAt, args: { device: 'house-7-board', output: 'relay3', action: 'dance' } }),
    );
    await send('ack', JSON.stringify({ id: 'b3', args: { alertId: 'no-such-alert' } }));
    await send('ack', '{{{');
    await send('output', JSON.stringify({ id: 'b5', sentAt, args: { device: 'nowhere', output: 'x', action: 'on' } }));
    // An actuation command that does not say how long it is good for could be a week old.
    await send(
      'output',
      JSON.stringify({ id: 'b7', args: { device: 'house-7-board', output: 'relay3', action: 'on' } }),
    );
    await waitUntil(() => replies.length >= 6, 5000, 'six replies');
    const by = (id: string) =>
      replies.find((r) => r.id === id) as { ok: boolean; error: { code: string; message: string } };
    expect(by('b1').error).toMatchObject({ code: 'NOT_REMOTE' });
    expect(by('b2').error.code).toBe('INVALID_ARGS');
    expect(by('b3').error.code).toBe('UNKNOWN_ALERT');
    expect(replies.find((r) => r.id === undefined)).toMatchObject({ ok: false, error: { code: 'MALFORMED' } });
    expect(by('b5').error.code).toBe('UNKNOWN_DEVICE');
    expect(by('b7').error).toMatchObject({
      code: 'NO_EXPIRY',
      message: expect.stringContaining('expiresAt or sentAt'),
    });
    expect(sim.writes.length).toBe(before); // nothing actuated
    // The one remotely controllable output works.
    await send(
      'output',
      JSON.stringify({
        id: 'b6',
        expiresAt: Date.now() + 30_000,
        args: { device: 'house-7-board', output: 'relay3', action: 'on' },
      }),
    );
    await waitUntil(() => replies.some((r) => r.id === 'b6'), 5000, 'the strobe reply');
    expect(sim.writes.at(-1)).toMatchObject({ address: STROBE_COIL, value: true });
    // By the id the config gave it too; and a name the config does not list says which ones it does.
    await send(
      'output',
      JSON.stringify({ id: 'b8', sentAt, args: { device: 'house-7-board', output: 'strobe', action: 'off' } }),
    );
    await send(
      'output',
      JSON.stringify({ id: 'b9', sentAt, args: { device: 'house-7-board', output: 'lamp', action: 'on' } }),
    );
    await waitUntil(() => replies.some((r) => r.id === 'b8') && replies.some((r) => r.id === 'b9'), 5000, 'b8, b9');
    expect(replies.find((r) => r.id === 'b8')).toMatchObject({ ok: true, result: { output: 'relay3', action: 'off' } });
    expect(sim.writes.at(-1)).toMatchObject({ address: STROBE_COIL, value: false });
    expect(by('b9').error.message).toContain('relay1 (siren); relay3 (strobe), remote');
    expect(by('b1').error.message).toContain('devices[id=house-7-board].outputs.relay1.remote: true');
    await countySide.waitFor(() => [...countySide.events.values()].some((e) => e.type === 'command.stale'), 10_000);
    await check.expectAllDelivered();
    expect([...countySide.events.values()].filter((e) => e.type === 'command.stale').map((e) => e.data)).toEqual([
      expect.objectContaining({ command: 'output', id: 'b7', code: 'NO_EXPIRY', clock: 'gateway' }),
    ]);
  });

  it('a command that waited on the broker past its time is refused and recorded, and moves nothing', async () => {
    const { sim, county, check, link } = await village();
    const replies: Record<string, unknown>[] = [];
    county.client!.on('message', (t, p) => t.includes('/cmd-reply/') && replies.push(JSON.parse(p.toString())));
    await county.client!.subscribeAsync('village/gw-loop/cmd-reply/+', { qos: 1 });
    const before = sim.writes.length;
    link.cut(); // the gateway is away; the broker keeps its commands in the persistent session
    const strobe = { device: 'house-7-board', output: 'relay3', action: 'on' };
    const send = (body: object) =>
      county.client!.publishAsync('village/gw-loop/cmd/output', JSON.stringify(body), { qos: 1 });
    await send({ id: 'late1', expiresAt: Date.now() + 300, args: strobe });
    await send({ id: 'late2', sentAt: Date.now() - 59_500, args: strobe }); // good for 60 s from sentAt
    await send({ id: 'fresh', expiresAt: Date.now() + 120_000, args: strobe });
    await new Promise((r) => setTimeout(r, 1000));
    link.restore();
    await waitUntil(
      () => ['late1', 'late2', 'fresh'].every((id) => replies.some((r) => r.id === id)),
      15_000,
      'replies',
    );
    const by = (id: string) =>
      replies.find((r) => r.id === id) as { ok: boolean; error?: { code: string; message: string } };
    expect(by('late1').error).toMatchObject({ code: 'EXPIRED', message: expect.stringContaining('its expiresAt') });
    expect(by('late2').error).toMatchObject({ code: 'EXPIRED', message: expect.stringContaining('good for 60 s') });
    expect(by('fresh').ok).toBe(true);
    expect(sim.writes.slice(before).filter((w) => w.address === STROBE_COIL)).toHaveLength(1); // the fresh one only
    const staleAtCounty = () => [...county.events.values()].filter((e) => e.type === 'command.stale').length;
    await county.waitFor(() => staleAtCounty() >= 2, 10_000); // recorded as the reply goes
    await check.expectAllDelivered();
    const stale = [...county.events.values()].filter((e) => e.type === 'command.stale').map((e) => e.data);
    expect(stale).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'late1', code: 'EXPIRED', command: 'output' }),
        expect.objectContaining({ id: 'late2', code: 'EXPIRED', command: 'output' }),
      ]),
    );
    expect(stale).toHaveLength(2);
  });

  it('sounds the siren with no network at all; the press and the alert reach the county once the link is back', async () => {
    const { sim, board, rig, county, check, link } = await village({ linkDown: true });
    expect(rig.agent.observe.link().up).toBe(false);
    board.set('di2', true);
    await waitUntil(() => sim.writes.some((w) => w.address === SIREN_FLASH), 2000, 'the siren without a link');
    await rig.waitFor((e) => e.type === 'alert.raised', 2000, 'the alert, stored for later');
    expect(rig.agent.observe.backlog().backlog.critical.count).toBeGreaterThanOrEqual(2); // the press and the alert wait for the link
    link.restore();
    await check.expectAllDelivered();
    expect([...county.events.values()].map((e) => e.type)).toEqual(
      expect.arrayContaining(['alarm.pressed', 'alert.raised']),
    );
  });
});
