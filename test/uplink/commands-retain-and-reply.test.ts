/**
 * Commands against a real Mosquitto, the agent in-process: a retained command is refused even
 * when it arrives live (MQTT 5 Retain As Published), and replies stay under the gateway's own
 * `<prefix>/cmd-reply/` (a response topic anywhere else is refused, logged, and answered on the
 * default reply topic).
 */
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from '../../agent/agent.js';
import { testConfig } from '../helpers/agent-config.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker({ needsMosquitto: true }); // MQTT 5 (aedes speaks 3.1.1 only)
});
afterAll(() => broker.dispose());

interface Arrival {
  topic: string;
  body: Record<string, unknown>;
  retain: boolean;
  correlation?: string;
}

/**
 * The agent (running a `probe` command that counts its runs), the county's events subscriber and a county
 * command client.
 */
async function rig(gatewayId: string, protocolVersion: 4 | 5) {
  const logLines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({ write: (chunk, _enc, done) => (logLines.push(JSON.parse(chunk.toString())), done()) }),
  );
  const county = await startCounty(broker.url, cleanup, `county-${gatewayId}`);
  const check = new DeliveryCheck(county);
  const dir = tempDir();
  const agent = new Agent({
    config: testConfig(broker.url, dir, { gateway: { id: gatewayId }, mqtt: { protocolVersion } }),
    configHash: 'x',
    baseDir: dir,
    logger,
  });
  let runs = 0;
  agent.commands.register('probe', { args: z.strictObject({}), run: () => ({ runs: (runs += 1) }) });
  check.watch(agent);

  const sender: MqttClient = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    clientId: `sender-${gatewayId}`,
  });
  cleanup(() => sender.endAsync());
  const seen: Arrival[] = [];
  sender.on('message', (topic, payload, packet) => {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      /* an empty retained-message clear */
    }
    seen.push({
      topic,
      body,
      retain: packet.retain,
      ...(packet.properties?.correlationData ? { correlation: packet.properties.correlationData.toString() } : {}),
    });
  });
  await sender.subscribeAsync(['village/+/cmd-reply/#', 'village/+/status', 'village/+/cmd/#'], { qos: 1, rap: true });

  await agent.start();
  cleanup(() => agent.stop());
  // The command subscription is in place once a ping is answered (until then a command has no subscriber).
  // Replies carry `command`; the sender also hears its own commands on village/+/cmd/#.
  const replies = () => seen.filter((a) => a.body.command !== undefined);
  const answered = () => replies().some((a) => String(a.body.id).startsWith('ready-'));
  for (let i = 0; !answered(); i++) {
    if (i === 50) throw new Error('the gateway never answered a ping');
    await sender.publishAsync(`village/${gatewayId}/cmd/ping`, JSON.stringify({ id: `ready-${i}` }), { qos: 1 });
    await waitUntil(answered, 200, 'a ping reply').catch(() => {});
  }
  const replyTo = async (id: string) => {
    await waitUntil(() => replies().some((a) => a.body.id === id), 5000, `the reply to ${id}`);
    return replies().find((a) => a.body.id === id)!;
  };
  return { agent, check, sender, replies, logLines, replyTo, runs: () => runs };
}

describe('commands: retained ones refused, replies only in the reply namespace', () => {
  it('MQTT 5: a retained command that arrives live is refused (Retain As Published), a fresh one runs', async () => {
    const r = await rig('gw-rap', 5);
    await r.sender.publishAsync('village/gw-rap/cmd/probe', JSON.stringify({ id: 'live-retained' }), {
      qos: 1,
      retain: true,
    });
    cleanup(() => r.sender.publishAsync('village/gw-rap/cmd/probe', '', { qos: 1, retain: true })); // clear it on the broker
    const refused = await r.replyTo('live-retained');
    expect(refused).toMatchObject({
      topic: 'village/gw-rap/cmd-reply/probe',
      body: { ok: false, error: { code: 'RETAINED' } },
    });
    expect(r.runs()).toBe(0);

    await r.sender.publishAsync('village/gw-rap/cmd/probe', JSON.stringify({ id: 'fresh' }), { qos: 1 });
    expect((await r.replyTo('fresh')).body).toMatchObject({ ok: true, result: { runs: 1 } });
    expect(r.logLines).toContainEqual(
      expect.objectContaining({ command: 'probe', code: 'RETAINED', msg: 'command rejected' }),
    );
    await r.check.expectAllDelivered();
  });

  it('MQTT 5: an actuation command is good for the message expiry the broker forwards; without any expiry it is refused', async () => {
    const r = await rig('gw-expiry', 5);
    let moved = 0;
    r.agent.commands.register('probe-act', {
      args: z.strictObject({}),
      actuation: true,
      run: () => ({ moved: (moved += 1) }),
    });
    const act = (id: string, properties?: { messageExpiryInterval: number }) =>
      r.sender.publishAsync('village/gw-expiry/cmd/probe-act', JSON.stringify({ id }), {
        qos: 1,
        ...(properties ? { properties } : {}),
      });
    await act('with-expiry', { messageExpiryInterval: 30 });
    expect((await r.replyTo('with-expiry')).body).toMatchObject({ ok: true, result: { moved: 1 } });
    await act('no-expiry');
    expect((await r.replyTo('no-expiry')).body).toMatchObject({ ok: false, error: { code: 'NO_EXPIRY' } });
    expect(moved).toBe(1);
    await r.check.expectAllDelivered();
  });

  it.each([4, 5] as const)(
    'MQTT %s: a retained command waiting on the broker is refused when the gateway subscribes',
    async (v) => {
      const gw = `gw-retained-v${v}`;
      const sender = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `early-${gw}` });
      await sender.publishAsync(`village/${gw}/cmd/probe`, JSON.stringify({ id: 'waiting' }), { qos: 1, retain: true });
      await sender.endAsync();
      const r = await rig(gw, v);
      cleanup(() => r.sender.publishAsync(`village/${gw}/cmd/probe`, '', { qos: 1, retain: true }));
      expect((await r.replyTo('waiting')).body).toMatchObject({ ok: false, error: { code: 'RETAINED' } });
      expect(r.runs()).toBe(0);
      await r.check.expectAllDelivered();
    },
  );

  it('a flood of 1,000 malformed commands: each answered, the log within its budget and saying what it left out', async () => {
    const r = await rig('gw-flood', 4);
    const flood = Array.from({ length: 1000 }, (_, i) =>
      r.sender.publishAsync('village/gw-flood/cmd/probe', `{"id":"f${i}", not json`, { qos: 1 }),
    );
    await Promise.all(flood);
    await waitUntil(() => r.replies().filter((a) => a.body.error !== undefined).length >= 1000, 20_000, 'every reply');
    const lines = r.logLines.filter((l) => l['msg'] === 'command rejected');
    expect(lines.length).toBeGreaterThanOrEqual(50); // the burst (the pings before it took a few)
    expect(lines.length).toBeLessThan(100); // 60 at once, then about one a second
    await new Promise((res) => setTimeout(res, 1200)); // a line's worth of budget back
    await r.sender.publishAsync('village/gw-flood/cmd/probe', JSON.stringify({ id: 'after', args: { unknown: 1 } }), {
      qos: 1,
    });
    await r.replyTo('after');
    await waitUntil(
      () =>
        r.logLines.some(
          (l) => l['msg'] === 'command rejected' && l['command'] === 'probe' && l['code'] === 'INVALID_ARGS',
        ),
      3000,
      "the 'after' line",
    );
    // Every refusal is logged or counted in a later line's `unlogged`.
    const rejected = r.logLines.filter((l) => l['msg'] === 'command rejected');
    const counted = rejected.length + rejected.reduce((n, l) => n + Number(l['unlogged'] ?? 0), 0);
    expect(counted).toBe(1001);
    expect(r.runs()).toBe(0);
  });

  it('MQTT 5: a response topic outside <prefix>/cmd-reply/ is refused, logged, and answered on the default reply topic', async () => {
    const r = await rig('gw-reply', 5);
    const send = (id: string, responseTopic: string) =>
      r.sender.publishAsync('village/gw-reply/cmd/probe', JSON.stringify({ id }), {
        qos: 1,
        properties: { responseTopic, correlationData: Buffer.from(`corr-${id}`) },
      });
    const hostile = [
      ['own-status', 'village/gw-reply/status'],
      ['other-gateway', 'village/gw-other/cmd/output'],
      ['bare-namespace', 'village/gw-reply/cmd-reply'],
    ] as const;
    for (const [id, topic] of hostile) {
      await send(id, topic);
      const reply = await r.replyTo(id);
      expect(reply).toMatchObject({
        topic: 'village/gw-reply/cmd-reply/probe',
        correlation: `corr-${id}`,
        body: { id, ok: false, error: { code: 'BAD_RESPONSE_TOPIC' } },
      });
      expect((reply.body.error as { message: string }).message).toBe(
        `response topic "${topic}" is outside this gateway's reply namespace village/gw-reply/cmd-reply/...; refused, and this reply went to village/gw-reply/cmd-reply/probe`,
      );
      expect(r.logLines).toContainEqual(
        expect.objectContaining({
          command: 'probe',
          code: 'BAD_RESPONSE_TOPIC',
          msg: 'command rejected',
          err: expect.stringContaining(topic),
        }),
      );
    }
    expect(r.runs()).toBe(0);

    // Inside the namespace, at any depth, the response topic is honoured with the correlation data.
    await send('own-app', 'village/gw-reply/cmd-reply/county-app-7/42');
    await waitUntil(() => r.replies().some((a) => a.body.id === 'own-app'), 5000, 'the reply in the namespace');
    expect(r.replies().filter((a) => a.body.id === 'own-app')).toEqual([
      {
        topic: 'village/gw-reply/cmd-reply/county-app-7/42',
        retain: false,
        correlation: 'corr-own-app',
        body: expect.objectContaining({ ok: true, result: { runs: 1 } }),
      },
    ]);
    // Everything before it has arrived: nothing was published to the status or another gateway's topics.
    expect(r.replies().filter((a) => !a.topic.startsWith('village/gw-reply/cmd-reply/'))).toEqual([]);
    await r.check.expectAllDelivered();
  });
});
