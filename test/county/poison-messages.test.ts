/**
 * A stranger who can publish to the county's broker sends one bad message each, as the hostile
 * probe of issue 17 did: the county-subscriber and county:check scripts (built, run as child
 * processes) against a real Mosquitto. Each must stay up, count the message and name its topic
 * and reason, acknowledge it (a restarted subscriber on the same persistent session does not
 * get it again), still receive a good event sent after it, and county:check must fail with the
 * count.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_LIMITS } from '../../core/contracts/wire-limits.js';
import type { Verdict } from '../../scripts/county/delivery-checker.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { CHECK_CLI, Child, run, SUBSCRIBER_CLI } from './child.js';
import { handMadeEvents } from './hand-made-events.js';

const cleanup = useCleanups();
const tempDir = useTempDirs();
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker({ needsMosquitto: true });
});
afterAll(async () => broker.dispose());

const { ev, started: startedAt } = handMadeEvents('gw-good');
const started = () => startedAt(1);
const withHeader = (h: number, body: Buffer) => Buffer.concat([Buffer.from([h]), body]);
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** A compact batch with one event whose data nests 200,000 arrays: 585 bytes deflated, as in the probe. */
function deepCompactBatch(): Buffer {
  const json = `{"v":2,"gatewayId":"gw-stranger","groups":[{"bootId":"b","deviceId":"d","type":"t","priority":"normal","clockSynced":true,"events":[[1,0,0,"x",{"a":${nested(200_000)}}]]}]}`;
  return withHeader(1, deflateRawSync(Buffer.from(json), { level: 9 }));
}

/** A v1 JSON batch of well-formed events, just over the message size limit (the probe's was 98 MB). */
function oversizedJsonBatch(): Buffer {
  const events = [];
  let bytes = 0;
  for (let seq = 1; bytes <= WIRE_LIMITS.maxMessageBytes; seq++) {
    const e = ev(seq, 'sensor.telemetry', { pad: 'x'.repeat(900) }, 'gw-stranger');
    bytes += JSON.stringify(e).length + 1;
    events.push(e);
  }
  const payload = Buffer.from(JSON.stringify({ v: 1, gatewayId: 'gw-stranger', events }));
  expect(payload.length).toBeGreaterThan(WIRE_LIMITS.maxMessageBytes);
  expect(payload.length).toBeLessThan(WIRE_LIMITS.maxMessageBytes + 4096);
  return payload;
}

const POISONS: { name: string; topic: string; payload: () => Buffer; reason: RegExp }[] = [
  {
    name: 'a compact batch whose data nests 200,000 arrays (585 bytes deflated)',
    topic: 'village/gw-stranger/events/batch',
    payload: deepCompactBatch,
    reason: /nests deeper than 64 levels/,
  },
  {
    name: '200 KB of nested JSON in an envelope on /events',
    topic: 'village/gw-stranger/events',
    payload: () =>
      Buffer.from(
        JSON.stringify(ev(1, 'sensor.telemetry', {}, 'gw-stranger')).replace('{}', `{"x":${nested(100_000)}}`),
      ),
    reason: /nests deeper than 64 levels/,
  },
  {
    name: 'a v1 JSON batch just over the 1 MiB message limit',
    topic: 'village/gw-stranger/events',
    payload: oversizedJsonBatch,
    reason: /JSON of \d+ bytes is over 1048576/,
  },
  {
    name: "an event naming another gateway than its topic's (the ACL guards the topic, not the payload)",
    topic: 'village/gw-stranger/events',
    payload: () => Buffer.from(JSON.stringify(ev(1, 'alarm.pressed', {}, 'gw-good'))),
    reason: /gatewayId "gw-good" is not the topic's "gw-stranger"/,
  },
  {
    name: 'garbage bytes on /events',
    topic: 'village/gw-stranger/events',
    payload: () => Buffer.concat([Buffer.from('\x00\x1b[2J'), randomBytes(2000)]),
    reason: /not UTF-8|not JSON/,
  },
  {
    name: 'a deflate bomb (17 MiB of spaces in a few KB)',
    topic: 'village/gw-stranger/events/batch',
    payload: () => withHeader(1, deflateRawSync(Buffer.alloc(17 * 1024 ** 2, 0x20), { level: 9 })),
    reason: /deflate payload does not decompress/,
  },
];

function child(script: string, args: string[]): Child {
  const c = new Child(script, args);
  cleanup(() => c.dispose());
  return c;
}

/** A subscriber CLI on a persistent session, ready once it says it has subscribed. */
async function subscriber(id: string): Promise<Child> {
  const sub = child(SUBSCRIBER_CLI, ['--url', broker.url, '--id', id]);
  await sub.waitFor(/subscribed to/);
  return sub;
}

const printed = (c: Child, seq: number) => c.stdout.includes(`"id":"gw-good-${seq}"`);

describe('one message a stranger sends cannot stop the county tools', () => {
  it.each(POISONS.map((p, i) => ({ ...p, i })))(
    '$name: both stay up, count it with its topic and reason, ack it; the next good event arrives',
    { timeout: 120_000 },
    async ({ topic, payload, reason, i }) => {
      const id = `county-poison-${i}`;
      const sub = await subscriber(id);
      const check = child(CHECK_CLI, ['--url', broker.url, '--json']);
      await check.waitFor(/listening on/);

      const stranger = await mqtt.connectAsync(broker.url, { clientId: `stranger-${i}` });
      cleanup(() => stranger.endAsync());
      await stranger.publishAsync('village/gw-good/events', JSON.stringify(started()), { qos: 1 });
      await stranger.publishAsync(topic, payload(), { qos: 1 });
      await stranger.publishAsync('village/gw-good/events', JSON.stringify(ev(2)), { qos: 1 });

      // The subscriber: still up, the good event after the poison printed, the poison said with its topic.
      await sub.waitFor((c) => printed(c, 2) && c.stderr.includes(`unreadable message on ${topic}: `), 60_000);
      const line = sub.stderr.split('\n').find((l) => l.startsWith(`unreadable message on ${topic}: `))!;
      expect(line).toMatch(reason);
      expect(line).not.toMatch(/\x1b/); // eslint-disable-line no-control-regex -- a terminal escape must not pass

      // county:check: counts it, and fails because of it.
      await check.waitFor((c) => /received 2 distinct events, 0 duplicates, 0 malformed, 1 unreadable/.test(c.stderr));
      check.signal('SIGINT');
      expect(await check.exited, check.stderr).toBe(1);
      const v = JSON.parse(check.stdout) as Verdict;
      expect(v).toMatchObject({ ok: false, distinct: 2, unreadable: 1 });
      expect(v.problems).toHaveLength(1);
      expect(v.problems[0]).toContain(`1 unreadable messages, their events unknown (${topic}: `);
      expect(v.problems[0]).toMatch(reason);

      sub.signal('SIGINT');
      expect(await sub.exited, sub.stderr).toBe(0);
      expect(sub.stderr).toContain('"events":2,"duplicates":0,"malformed":0,"unreadable":1,"pictures":0}');

      // Restarted on the same persistent session: the poison was acknowledged, so it does not come again.
      const again = await subscriber(id);
      await stranger.publishAsync('village/gw-good/events', JSON.stringify(ev(3)), { qos: 1 });
      await again.waitFor((c) => printed(c, 3), 30_000);
      again.signal('SIGINT');
      expect(await again.exited, again.stderr).toBe(0);
      expect(again.stderr).not.toContain('unreadable message');
      expect(again.stderr).toContain('"events":1,"duplicates":0,"malformed":0,"unreadable":0,"pictures":0}');
    },
  );

  it('a flood of bad messages is counted whole and logged within the budget', { timeout: 120_000 }, async () => {
    const sub = await subscriber('county-poison-flood');
    const check = child(CHECK_CLI, ['--url', broker.url]);
    await check.waitFor(/listening on/);
    const stranger = await mqtt.connectAsync(broker.url, { clientId: 'stranger-flood' });
    cleanup(() => stranger.endAsync());
    await stranger.publishAsync('village/gw-good/events', JSON.stringify(started()), { qos: 1 });
    for (let n = 0; n < 30; n++) await stranger.publishAsync(`village/gw-${n}/events`, `not json ${n}`, { qos: 1 });
    await stranger.publishAsync('village/gw-good/events', JSON.stringify(ev(2)), { qos: 1 });
    await sub.waitFor((c) => printed(c, 2), 60_000);
    await check.waitFor((c) => /received 2 distinct events, 0 duplicates, 0 malformed, 30 unreadable/.test(c.stderr));
    check.signal('SIGINT');
    expect(await check.exited).toBe(1);
    expect(check.stdout).toContain('problem: 30 unreadable messages, their events unknown (village/gw-0/events: ');
    sub.signal('SIGINT');
    expect(await sub.exited).toBe(0);
    for (const c of [sub, check]) {
      // 10 lines at most in the first 10 s, then one line for the rest (the run is far shorter than 10 s... or not:
      // a second window may add up to 10 more on a loaded machine, never 30).
      const shown = c.stderr.split('\n').filter((l) => l.startsWith('unreadable message on ')).length;
      expect(shown).toBeGreaterThanOrEqual(10);
      expect(shown).toBeLessThan(30);
      expect(c.stderr).toMatch(/\(\d+ more like it not shown: at most 10 every 10 s\)/);
    }
    expect(sub.stderr).toContain('"unreadable":30,"pictures":0}');
  });

  it('county:check --file (replay): a deeply nested line and a garbage line are counted, the check fails', async () => {
    const file = join(tempDir(), 'replay.jsonl');
    const deep = JSON.stringify(ev(2)).replace('{"seq":2}', `{"x":${nested(100_000)}}`);
    writeFileSync(
      file,
      [started(), deep, 'garbage', ev(2)].map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'),
    );
    const r = await run(CHECK_CLI, ['--file', file, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const v = JSON.parse(r.stdout) as Verdict;
    expect(v).toMatchObject({ ok: false, distinct: 2, unreadable: 2 });
    expect(v.problems).toEqual([
      expect.stringMatching(
        /^2 unreadable messages, their events unknown \(line 2: JSON nests deeper than 64 levels; line 3: not JSON/,
      ),
    ]);
    expect(r.stderr).toMatch(/^line 2: JSON nests deeper than 64 levels\nline 3: not JSON/);
  });

  it("a listener that throws on a message (the county's own bug) costs that message, not the subscriber", async () => {
    const start = () => new CountySubscriber({ url: broker.url, clientId: 'county-poison-listener' }).start();
    const sub = await start();
    cleanup(() => sub.stop());
    const why: string[] = [];
    sub.on('unreadable', (topic, reason) => why.push(`${topic}: ${reason}`));
    sub.on('event', (e) => {
      if (e.seq === 1) throw new Error('the database said no');
    });
    const stranger = await mqtt.connectAsync(broker.url, { clientId: 'stranger-listener' });
    cleanup(() => stranger.endAsync());
    await stranger.publishAsync('village/gw-good/events', JSON.stringify(started()), { qos: 1 });
    await stranger.publishAsync('village/gw-good/events', JSON.stringify(ev(2)), { qos: 1 });
    await waitUntil(() => sub.events.has('gw-good-2'), 30_000, 'the event after the one that threw');
    expect(sub.unreadable).toBe(1);
    expect(why).toEqual(['village/gw-good/events: a listener failed: the database said no']);
    await sub.stop();
    // Acknowledged: the same session, restarted, does not get it again.
    const again = await start();
    cleanup(() => again.stop());
    await stranger.publishAsync('village/gw-good/events', JSON.stringify(ev(3)), { qos: 1 });
    await waitUntil(() => again.events.has('gw-good-3'), 30_000, 'the next event');
    expect([...again.events.keys()]).toEqual(['gw-good-3']);
  });
});
