/**
 * Who may command a village, on a real Mosquitto running the county's ACL example
 * (scripts/brokers/county-acl/) as written. Two real gateways, A and B, each logged in as
 * itself, deliver presses and answer the county's acknowledgements. Then A's login is stolen:
 * a client with it can neither read B's commands or events, nor publish on B's topics (MQTT
 * 3.1.1: PUBACKed and dropped, the sender is not told; MQTT 5: PUBACK 0x87), nor take B's
 * session by asking for B's client id (the broker gives it A's id instead). A dashboard's
 * login cannot command. Through all of it B keeps working: its presses reach the county and the
 * county's acknowledgement lights its LED. Last, the platform reads through a shared group and
 * gets a reply on its own MQTT 5 response topic under cmd-reply/<consumer>/. Gateway A speaks
 * MQTT 3.1.1, B MQTT 5.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { countyAclDir, renderCountyAclConfig } from '../../scripts/brokers/county-acl.js';
import { Mosquitto } from '../../scripts/brokers/mosquitto.js';
import { requireMosquitto } from '../helpers/broker.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';

const USERS = {
  'county-platform': 'platform-pw',
  'county-dashboard': 'dash-pw',
  'county-updates': 'updates-pw',
  'gw-a': 'a-pw',
  'gw-b': 'b-pw',
};
const NOT_AUTHORIZED = 0x87;

interface Seen {
  topic: string;
  body: { id?: string; type?: string; gatewayId?: string; ok?: boolean; data?: Record<string, unknown> };
}

let broker: Mosquitto;
const clients: MqttClient[] = [];
const closers: (() => Promise<unknown>)[] = [];
const seen: Seen[] = []; // what the county platform received
const agents: Record<'a' | 'b', { agent: Agent; panel: PanicPanel }> = {} as never;
let platform: MqttClient;

/** The agents live across the file's tests: their folders go in afterAll, not after each test. */
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vg-acl-'));
  closers.push(() => Promise.resolve(rmSync(d, { recursive: true, force: true })));
  return d;
}

async function login(user: keyof typeof USERS, clientId: string, v: 4 | 5 = 4, o: IClientOptions = {}) {
  const c = await mqtt.connectAsync(broker.url, {
    clientId,
    username: user,
    password: USERS[user],
    protocolVersion: v,
    reconnectPeriod: 0,
    clean: true,
    ...o,
  });
  c.on('error', () => {}); // a kicked client's socket closes under it: some tests are about that
  clients.push(c);
  return c;
}

/** Publishes QoS 1; resolves the PUBACK's outcome: 0 (success) or the MQTT 5 reason code. */
function publish(c: MqttClient, topic: string, body: unknown): Promise<number> {
  return new Promise((resolve) =>
    c.publish(topic, JSON.stringify(body), { qos: 1 }, (err) =>
      resolve(err ? ((err as Error & { code?: number }).code ?? -1) : 0),
    ),
  );
}

const events = (gw: string, type: string) => seen.filter((s) => s.body.gatewayId === gw && s.body.type === type);
const reply = (gw: string, id: string) =>
  seen.find((s) => s.topic.startsWith(`village/${gw}/cmd-reply/`) && s.body.id === id);

/** A ping from the county platform, answered: everything the broker took from others before it has been handled. */
async function pingFromCounty(gw: string, id: string): Promise<void> {
  expect(await publish(platform, `village/${gw}/cmd/ping`, { id })).toBe(0);
  await waitUntil(() => reply(gw, id) !== undefined, 10_000, `${gw}'s reply to ping ${id}`);
}

/** A press on `gw`'s panel reaches the county, whose ack reaches the gateway and lights the LED. */
async function pressAndAck(gw: 'a' | 'b'): Promise<void> {
  const id = `gw-${gw}`;
  const { panel } = agents[gw];
  const alerts = events(id, 'alert.raised').length;
  const leds = panel.ledsLit;
  expect(await panel.press('di1')).toBe(true);
  await waitUntil(() => events(id, 'alert.raised').length > alerts, 10_000, `${id}'s alert at the county`);
  const alertId = events(id, 'alert.raised').at(-1)!.body.id!;
  expect(await publish(platform, `village/${id}/cmd/ack`, { id: `ack-${alertId}`, args: { alertId } })).toBe(0);
  await waitUntil(() => reply(id, `ack-${alertId}`) !== undefined, 10_000, `${id}'s reply to the ack`);
  expect(reply(id, `ack-${alertId}`)!.body.ok).toBe(true);
  await waitUntil(() => panel.ledsLit > leds, 10_000, `${id}'s help-is-coming LED`);
}

/** MQTT topic matching (the ACL's lines are filters: + one level, # the rest). */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

describe('the county broker ACL: a gateway reads and writes only its own topics', () => {
  it("grants exactly the topics the agent uses (agent/uplink/topics.ts, the media sender's, the update's)", () => {
    const acl = readFileSync(`${countyAclDir()}acl`, 'utf8');
    const lines = (kind: string) =>
      [...acl.matchAll(new RegExp(`^pattern ${kind} (.*)$`, 'gm'))].map((m) => m[1]!.replace('%u', 'gw-x'));
    const t = topicsFor('village/gw-x');
    const writes = [
      t.events,
      t.eventsBatch,
      t.health,
      t.status,
      t.reply('ack'),
      `${t.replyNamespace}consumer-2/ack`,
      t.updateRequest,
    ];
    for (const topic of [...writes, 'village/gw-x/media/pic-1'])
      expect(
        lines('write').some((f) => matches(f, topic)),
        topic,
      ).toBe(true);
    expect(lines('read').some((f) => matches(f, t.command('ack')))).toBe(true);
    // Nothing beyond: every write line is one the agent uses, and no gateway reads its own events.
    expect(lines('write')).toHaveLength(7);
    expect(lines('read')).toEqual(['village/gw-x/cmd/#', t.updateChunk]);
  });

  beforeAll(async () => {
    broker = await new Mosquitto(requireMosquitto(), { render: (at) => renderCountyAclConfig(at, USERS) }).start();
    platform = await login('county-platform', 'county-platform', 5);
    platform.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as Seen['body'] & { events?: Seen['body'][] };
      for (const one of body.events ?? [body]) seen.push({ topic, body: one });
    });
    const granted = await platform.subscribeAsync(['village/+/events', 'village/+/status', 'village/+/cmd-reply/#'], {
      qos: 1,
    });
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1]);
    for (const gw of ['a', 'b'] as const) {
      const panel = await new PanicPanel().start();
      closers.push(() => panel.close());
      const agent = villageAgent({
        url: broker.url,
        dir: dataDir(),
        panel,
        gatewayId: `gw-${gw}`,
        // A speaks MQTT 3.1.1, B MQTT 5 (B's replies may go to a consumer's own response topic).
        over: { mqtt: { username: `gw-${gw}`, password: USERS[`gw-${gw}`], protocolVersion: gw === 'a' ? 4 : 5 } },
      });
      await agent.start();
      closers.push(() => agent.stop());
      agents[gw] = { agent, panel };
    }
    for (const gw of ['a', 'b'] as const)
      await waitUntil(() => agents[gw].agent.observe.link().up, 10_000, `gw-${gw}'s uplink`);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    for (const close of closers.reverse()) await close();
    await broker?.dispose();
  });

  it('each gateway, logged in as itself, delivers presses and takes the county commands', async () => {
    await pressAndAck('a');
    await pressAndAck('b');
    await pingFromCounty('gw-a', 'ping-a');
  }, 60_000);

  it("A's login, stolen, cannot read B's commands or events", async () => {
    await agents.a.agent.stop(); // the thief holds A's login (with A running, each would kick the other: one client id)
    const spy = await login('gw-a', 'gw-a');
    const got: string[] = [];
    spy.on('message', (topic) => got.push(topic));
    // Mosquitto 2.0 grants every subscription in the SUBACK and checks each message at delivery
    // against the reader's ACL: a filter as wide as village/# is granted and yet delivers nothing of B's.
    const granted = await spy.subscribeAsync(['village/gw-b/cmd/#', 'village/gw-b/events', 'village/#'], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1]);

    // B's events and B's commands flow past it: the spy sees none of them.
    await pressAndAck('b');
    expect(got).toEqual([]);
  }, 60_000);

  it("A's login, stolen, cannot publish on B's topics: the county and B never see it", async () => {
    const spy = await login('gw-a', 'gw-a');
    // Publishing as B (MQTT 3.1.1): PUBACKed like a success, dropped: neither the county nor B gets it.
    expect(await publish(spy, 'village/gw-b/events', { id: 'forged', type: 'alarm.pressed', gatewayId: 'gw-b' })).toBe(
      0,
    );
    expect(await publish(spy, 'village/gw-b/cmd/ping', { id: 'forged-cmd' })).toBe(0);
    expect(await publish(spy, 'village/gw-b/cmd-reply/ping', { id: 'forged-reply', gatewayId: 'gw-b' })).toBe(0);
    expect(
      await publish(spy, 'village/gw-b/status', { id: 'forged-status', state: 'offline', gatewayId: 'gw-b' }),
    ).toBe(0);
    // What a gateway may write still passes: the marker shows the broker handled the forged ones before.
    expect(await publish(spy, 'village/gw-a/events', { id: 'marker', type: 'marker', gatewayId: 'gw-a' })).toBe(0);
    await waitUntil(() => seen.some((s) => s.body.id === 'marker'), 10_000, 'the marker at the county');
    await pingFromCounty('gw-b', 'ping-b-after-forgery');
    expect(seen.filter((s) => s.body.id?.startsWith('forged'))).toEqual([]);
    expect(reply('gw-b', 'forged-cmd')).toBeUndefined();

    // MQTT 5 says so: PUBACK reason code 0x87 (not authorized).
    const spy5 = await login('gw-a', 'gw-a', 5);
    expect(await publish(spy5, 'village/gw-b/events', { id: 'forged-v5', gatewayId: 'gw-b' })).toBe(NOT_AUTHORIZED);
    expect(await publish(spy5, 'village/gw-b/cmd/ping', { id: 'forged-v5-cmd' })).toBe(NOT_AUTHORIZED);
    expect(await publish(spy5, 'village/gw-a/events', { id: 'marker-v5', type: 'marker', gatewayId: 'gw-a' })).toBe(0);
    await waitUntil(() => seen.some((s) => s.body.id === 'marker-v5'), 10_000, 'the v5 marker at the county');
    await pingFromCounty('gw-b', 'ping-b-after-v5');
    expect(reply('gw-b', 'forged-v5-cmd')).toBeUndefined();
  }, 60_000);

  it("A's login asking for B's client id is given A's: B's gateway is not kicked, its session stays B's", async () => {
    const b = agents.b.agent;
    const reconnects = b.observe.link().reconnects;
    const first = await login('gw-a', 'gw-b', 4, { clean: false });
    let firstClosed = false;
    first.on('close', () => (firstClosed = true));
    const got: string[] = [];
    first.on('message', (topic) => got.push(topic));
    // Its session is not B's: B's commands are not given to it.
    await first.subscribeAsync('village/gw-b/cmd/#', { qos: 1 });
    await pingFromCounty('gw-b', 'ping-b-while-posing');
    expect(got).toEqual([]);
    // A second client with A's login and yet another id takes over the first: both were "gw-a".
    await login('gw-a', 'somebody-else');
    await waitUntil(() => firstClosed, 10_000, 'the first A login kicked by the second (same client id)');
    await pingFromCounty('gw-b', 'ping-b-after-takeover');
    expect(b.observe.link().reconnects, "B's gateway was never kicked off").toBe(reconnects);
    expect(b.observe.link().up).toBe(true);
  }, 60_000);

  it('a dashboard reads every village but cannot command one', async () => {
    // One login, one client id: a second dashboard on the same login would kick this one (one login per consumer).
    const dash5 = await login('county-dashboard', 'dashboard-2', 5);
    expect(await publish(dash5, 'village/gw-b/cmd/ping', { id: 'dash-cmd-v5' })).toBe(NOT_AUTHORIZED);
    await dash5.endAsync();
    const dash = await login('county-dashboard', 'dashboard-1');
    const got: string[] = [];
    dash.on('message', (topic) => got.push(topic));
    await dash.subscribeAsync('village/+/events', { qos: 1 });
    expect(await publish(dash, 'village/gw-b/cmd/ping', { id: 'dash-cmd' })).toBe(0); // 3.1.1: dropped quietly
    await pingFromCounty('gw-b', 'ping-b-after-dashboard');
    expect(reply('gw-b', 'dash-cmd')).toBeUndefined();
    expect(reply('gw-b', 'dash-cmd-v5')).toBeUndefined();
    // B still works, end to end, and the dashboard saw its press.
    await pressAndAck('b');
    expect(got).toContain('village/gw-b/events');
  }, 60_000);

  it('the update topics: a gateway asks only as itself, and only the update server answers it', async () => {
    const server = await login('county-updates', 'county-updates', 5);
    const requests: string[] = [];
    server.on('message', (topic) => requests.push(topic));
    await server.subscribeAsync('village/+/update/request', { qos: 1 });
    const a = await login('gw-a', 'gw-a', 5); // A's agent was stopped by an earlier test: its login is free
    const answers: string[] = [];
    a.on('message', (topic, payload) => answers.push(`${topic} ${payload.toString()}`));
    await a.subscribeAsync(['village/gw-a/update/chunk', 'village/gw-b/update/chunk'], { qos: 1 });
    const ask = { v: 1, version: '9.9.9', path: 'manifest.json', o: 0, len: 16384 };
    expect(await publish(a, 'village/gw-b/update/request', ask)).toBe(NOT_AUTHORIZED);
    expect(await publish(a, 'village/gw-a/update/request', ask)).toBe(0);
    await waitUntil(() => requests.length > 0, 10_000, "A's request at the update server");
    expect(requests).toEqual(['village/gw-a/update/request']);
    // Neither the platform nor a gateway may answer; the server's answer to B does not reach A.
    expect(await publish(platform, 'village/gw-a/update/chunk', 'forged')).toBe(NOT_AUTHORIZED);
    expect(await publish(a, 'village/gw-a/update/chunk', 'forged')).toBe(NOT_AUTHORIZED);
    expect(await publish(server, 'village/gw-b/update/chunk', 'for b')).toBe(0);
    expect(await publish(server, 'village/gw-a/update/chunk', 'for a')).toBe(0);
    await waitUntil(() => answers.length > 0, 10_000, "the server's answer at A");
    expect(answers).toEqual(['village/gw-a/update/chunk "for a"']);
    await pingFromCounty('gw-b', 'ping-b-after-update-topics'); // B ignored the stray answer and runs on
  }, 60_000);

  it("the platform's shared group receives through the ACL, and a reply under cmd-reply/<consumer>/ reaches it", async () => {
    // Last: the platform's login has one client id, so this connection takes over the first one.
    const member = await login('county-platform', 'ignored', 5);
    const got: { topic: string; id?: string }[] = [];
    member.on('message', (topic, payload) =>
      got.push({ topic, id: (JSON.parse(payload.toString()) as { id?: string }).id }),
    );
    await member.subscribeAsync(['$share/county/village/+/events', 'village/+/cmd-reply/consumer-1/#'], { qos: 1 });
    const responseTopic = 'village/gw-b/cmd-reply/consumer-1/ping';
    member.publish('village/gw-b/cmd/ping', JSON.stringify({ id: 'own-reply' }), {
      qos: 1,
      properties: { responseTopic },
    });
    await waitUntil(() => got.some((g) => g.id === 'own-reply'), 10_000, "the reply on the consumer's own topic");
    expect(got.find((g) => g.id === 'own-reply')!.topic).toBe(responseTopic);
    expect(await agents.b.panel.press('di2')).toBe(true);
    await waitUntil(
      () => got.some((g) => g.topic === 'village/gw-b/events'),
      10_000,
      "B's press through the shared group",
    );
  }, 60_000);
});
