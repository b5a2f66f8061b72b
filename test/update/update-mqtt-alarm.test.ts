/**
 * An update pulled over MQTT never holds up an alarm: an in-process agent with a panic panel (a
 * real Modbus board simulator) pulls a 2 MB bundle from the county's update server through a real
 * Mosquitto, the server answering each piece after 20 ms (measured here: ~90 ms a 16 KiB piece in
 * all, so the transfer lasts ~12 s); presses made while it runs reach the county before the transfer ends. Their
 * delay (press -> alarm.pressed at the county) is measured against presses with no transfer and
 * printed; no timing is asserted (a loaded CI machine would make it flaky), only the order.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '../../scripts/county-subscriber.js';
import { countyCommand } from '../helpers/county-command.js';
import { startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';
import { bundle } from './hand-bundle.js';
import { startUpdateServer } from './update-server-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const GW = 'gw-update-alarm';
const BIG = Buffer.alloc(2 * 1024 * 1024, 'u');
const ANSWER_DELAY_MS = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('an update over MQTT and an alarm', () => {
  it('presses during the transfer reach the county before it ends', { timeout: 120_000 }, async () => {
    const url = brokerRef.current.url;
    const dir = tempDir();
    const files = bundle('9.9.9', {}, { 'lib/big.bin': BIG });
    // Each answer after a pause: a link slower than the loopback, so the transfer lasts.
    const { server, asked } = await startUpdateServer(url, files, tempDir(), cleanup, ANSWER_DELAY_MS);

    const county = await startCounty(url, cleanup, 'county-update-alarm');
    const arrived: { ev: ReceivedEvent; at: number }[] = [];
    county.on('event', (ev: ReceivedEvent) => arrived.push({ ev, at: Date.now() }));
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const agent = villageAgent({ url, dir, panel, gatewayId: GW });
    await agent.start();
    cleanup(() => agent.stop());
    await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink');

    const ready = join(dir, 'update/ready');
    /** Presses di2 and waits for its alarm.pressed at the county; the delay, and whether the transfer had ended by then. */
    const pressDelay = async (): Promise<{ ms: number; readyByThen: boolean }> => {
      const before = arrived.filter((a) => a.ev.type === 'alarm.pressed').length;
      const t0 = Date.now();
      const pressing = panel.press('di2');
      await waitUntil(() => arrived.filter((a) => a.ev.type === 'alarm.pressed').length > before, 10_000, 'the press');
      const got = arrived.filter((a) => a.ev.type === 'alarm.pressed')[before]!;
      const readyByThen = existsSync(ready);
      await pressing;
      return { ms: got.at - t0, readyByThen };
    };
    const ackAll = async () => {
      for (const { ev } of arrived.filter((a) => a.ev.type === 'alert.raised'))
        await countyCommand(county, GW, 'ack', { id: `ack-${ev.id}`, args: { alertId: ev.id } });
    };

    const quiet: number[] = [];
    for (let i = 0; i < 3; i++) quiet.push((await pressDelay()).ms);
    await waitUntil(() => arrived.filter((a) => a.ev.type === 'alert.raised').length >= 3, 10_000, 'the alerts');
    await ackAll(); // an open alert refuses the update (ALARM_ACTIVE)

    const started = Date.now();
    const reply = await countyCommand(county, GW, 'update', {
      id: 'u1',
      args: { mqtt: true, version: '9.9.9' },
      expiresAt: Date.now() + 60_000,
    });
    expect(reply.error).toBeUndefined();
    expect(reply.result).toMatchObject({ accepted: true, files: 1, bytes: BIG.length });
    const during: { ms: number; readyByThen: boolean }[] = [];
    for (let i = 0; i < 3; i++) during.push(await pressDelay());
    await waitUntil(() => existsSync(ready), 90_000, 'update/ready');
    const transferMs = Date.now() - started;

    console.log(
      `press -> county alarm.pressed: no transfer ${quiet.join(', ')} ms (median ${median(quiet)}); ` +
        `during the MQTT transfer ${during.map((d) => d.ms).join(', ')} ms (median ${median(during.map((d) => d.ms))}); ` +
        `transfer of ${BIG.length} bytes in ${server.counts.served} pieces took ${transferMs} ms`,
    );
    expect(during.map((d) => d.readyByThen)).toEqual([false, false, false]);
    expect(server.counts.served).toBe(2 + BIG.length / 16_384);
    expect(asked.filter((x) => !x.includes('@'))).toEqual([]); // no refusal, no error
  });
});
