/**
 * The county's check-delivery CLI, built (dist/) and run as a child process: against a real
 * broker with a real agent, against a hand-made lossy "gateway", against files (including one
 * written by the county-subscriber script), and its exit codes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import type { Verdict } from '../../scripts/county/delivery-checker.js';
import { testConfig } from '../helpers/agent-config.js';
import { startBroker } from '../helpers/broker.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { CHECK_CLI, Child, run, SUBSCRIBER_CLI } from './child.js';
import { handMadeEvents } from './hand-made-events.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const { ev, started } = handMadeEvents('gw-lossy');
const lines = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

/** The highest "received N distinct" the listening CLI has printed. */
const receivedSoFar = (c: Child) =>
  Math.max(0, ...[...c.stderr.matchAll(/received (\d+) distinct/g)].map((m) => Number(m[1])));

/** A real agent on the test broker: events before and after start, every priority. */
async function runAgent(gatewayId: string, count: number) {
  const dir = tempDir();
  const sub = await startCounty(brokerRef.current.url, cleanup, `county-${gatewayId}`);
  const agent = new Agent({
    config: testConfig(brokerRef.current.url, dir, { gateway: { id: gatewayId }, mqtt: { batch: { maxEvents: 7 } } }),
    configHash: 'x',
    baseDir: dir,
    logger: quietLogger(),
  });
  const check = new DeliveryCheck(sub).watch(agent);
  await agent.open(); // the outbox, for a backlog queued before the link starts
  const priorities = ['low', 'normal', 'high', 'critical'] as const;
  await Promise.all(
    Array.from({ length: count / 2 }, (_, i) =>
      agent.emit({ deviceId: 'meter', type: 'sensor.telemetry', priority: priorities[i % 4]!, data: { i } }),
    ),
  );
  await agent.start();
  cleanup(() => agent.stop());
  await Promise.all(
    Array.from({ length: count / 2 }, (_, i) =>
      agent.emit({
        deviceId: 'btn',
        type: 'alarm.pressed',
        priority: priorities[i % 4]!,
        data: { input: `in${i}`, active: true },
      }),
    ),
  );
  return { agent, verdict: await check.expectAllDelivered() };
}

describe('check-delivery --url (a real broker)', () => {
  it(
    "judges a real agent's stream ok: exit 0, one boot, contiguous from gateway.started's first seq",
    { timeout: 60_000 },
    async () => {
      const cli = new Child(CHECK_CLI, ['--url', brokerRef.current.url, '--json']);
      cleanup(() => cli.dispose());
      await cli.waitFor(/listening on/);
      const { verdict } = await runAgent('gw-cli', 40);
      await cli.waitFor((c) => receivedSoFar(c) >= verdict.distinct);
      cli.signal('SIGINT');
      expect(await cli.exited, cli.stderr).toBe(0);
      const v = JSON.parse(cli.stdout) as Verdict;
      expect(v).toMatchObject({ ok: true, problems: [], distinct: verdict.distinct, malformed: 0 });
      expect(v.boots).toEqual([
        expect.objectContaining({
          gatewayId: 'gw-cli',
          anchored: true,
          firstSeq: 1,
          lastSeq: verdict.distinct,
          missing: [],
        }),
      ]);
    },
  );

  it('finds what a lossy gateway lost and a duplicate that changed: exit 1, the problems in words', async () => {
    const cli = new Child(CHECK_CLI, ['--url', brokerRef.current.url, '--gateway', 'gw-lossy']);
    cleanup(() => cli.dispose());
    await cli.waitFor(/listening on/);
    const gw = await mqtt.connectAsync(brokerRef.current.url, { clientId: 'fake-lossy-gateway' });
    cleanup(() => gw.endAsync());
    const sent = [started(1), ev(2), ev(4), ev(5), { ...ev(4), data: { seq: 'changed' } }];
    for (const e of sent) await gw.publishAsync('village/gw-lossy/events', JSON.stringify(e), { qos: 1 });
    // Another gateway's half-seen boot: --gateway leaves it out of the verdict.
    await gw.publishAsync('village/gw-other/events', JSON.stringify(ev(9, 'sensor.telemetry', {}, 'gw-other')), {
      qos: 1,
    });
    await cli.waitFor((c) => receivedSoFar(c) >= 4 && /1 duplicates/.test(c.stderr));
    cli.signal('SIGINT');
    expect(await cli.exited).toBe(1);
    expect(cli.stdout).toContain('delivery check: 2 problems');
    expect(cli.stdout).toContain('problem: id gw-lossy-4 arrived twice with different contents');
    expect(cli.stdout).toContain(
      'problem: gw-lossy: 1 events lost, only 0 accounted for by shedding (boot cccccccc missing 3)',
    );
    expect(cli.stdout).toMatch(
      /gw-lossy {2}boot cccccccc-0000-4000-8000-000000000003 {2}seqs 1\.\.5 {2}4 received, missing 1: 3/,
    );
    expect(cli.stdout).not.toContain('gw-other');
  });

  it(
    'exit 1 when nothing arrives in --seconds; exit 2 when the broker cannot be reached',
    { timeout: 30_000 },
    async () => {
      const quiet = await run(CHECK_CLI, [
        '--url',
        brokerRef.current.url,
        '--prefix',
        'nobody-publishes-here',
        '--seconds',
        '0.5',
      ]);
      expect(quiet.code).toBe(1);
      expect(quiet.stdout).toContain('problem: no events received');
      const port = await freePort();
      const down = await run(CHECK_CLI, ['--url', `mqtt://127.0.0.1:${port}`, '--seconds', '5']);
      expect(down.code).toBe(2);
      expect(down.stderr).toMatch(/cannot reach the broker at mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    },
  );
  it('warns when it loses the broker while listening (what is published meanwhile shows as gaps)', async () => {
    const own = await startBroker();
    cleanup(() => own.dispose());
    const cli = new Child(CHECK_CLI, ['--url', own.url]);
    cleanup(() => cli.dispose());
    await cli.waitFor(/listening on/);
    await own.stop();
    await cli.waitFor(/warning: lost the connection to the broker/);
    cli.signal('SIGINT');
    expect(await cli.exited).toBe(1); // and nothing was received
  });
});

describe('check-delivery --file', () => {
  it(
    'judges what the county-subscriber script wrote (--arrivals), and finds a line taken out',
    { timeout: 60_000 },
    async () => {
      const subscriber = new Child(SUBSCRIBER_CLI, [
        '--url',
        brokerRef.current.url,
        '--id',
        'county-file-writer',
        '--arrivals',
      ]);
      cleanup(() => subscriber.dispose());
      await subscriber.waitFor(/subscribed to village/);
      const { verdict } = await runAgent('gw-file', 30);
      const arrived = (c: Child) => c.stdout.split('\n').filter((l) => l.includes('"gw-file"')).length;
      await subscriber.waitFor((c) => arrived(c) >= verdict.distinct);
      subscriber.signal('SIGINT');
      expect(await subscriber.exited).toBe(0);
      const file = join(tempDir(), 'events.jsonl');
      writeFileSync(file, subscriber.stdout);
      const ok = await run(CHECK_CLI, ['--file', file, '--gateway', 'gw-file']);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(
        new RegExp(
          `^delivery check: ok\\nboots \\(1\\)\\n  gw-file {2}boot \\S+ {2}seqs 1\\.\\.${verdict.distinct} {2}${verdict.distinct} received, none missing\\n`,
        ),
      );
      // The same file with one event taken out (not the boot's first), read from stdin.
      const kept = subscriber.stdout.split('\n').filter((l) => l.includes('"gw-file"'));
      const victim = kept.find((l) => (JSON.parse(l) as { seq: number }).seq === 5)!;
      const lossy = await run(
        CHECK_CLI,
        ['--file', '-', '--gateway', 'gw-file', '--json'],
        kept.filter((l) => l !== victim).join('\n'),
      );
      expect(lossy.code).toBe(1);
      const v = JSON.parse(lossy.stdout) as Verdict;
      expect(v.boots[0]!.missing).toEqual([5]);
      expect(v.problems).toEqual([
        'gw-file: 1 events lost, only 0 accounted for by shedding (boot ' +
          v.boots[0]!.bootId.slice(0, 8) +
          ' missing 5)',
      ]);
    },
  );

  it('reads batches, counts unreadable lines (a problem), and fails a boot it never saw start unless --joined-late', async () => {
    const dir = tempDir();
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, `${JSON.stringify(started(1))}\n\n${JSON.stringify({ events: [ev(2), ev(3)] })}\n`);
    expect((await run(CHECK_CLI, ['--file', good])).code).toBe(0);
    const garbled = join(dir, 'garbled.jsonl');
    writeFileSync(garbled, `${JSON.stringify(started(1))}\n{"id": "torn\n${JSON.stringify(ev(2))}\n`);
    const g = await run(CHECK_CLI, ['--file', garbled]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('line 2: not JSON');
    expect(g.stdout).toContain('problem: 1 unreadable messages, their events unknown (line 2: not JSON');
    const late = join(dir, 'late.jsonl');
    writeFileSync(late, lines([ev(7), ev(8), ev(9)]));
    const strict = await run(CHECK_CLI, ['--file', late]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('its gateway.started never arrived');
    const joined = await run(CHECK_CLI, ['--file', late, '--joined-late']);
    expect(joined.code).toBe(0);
    expect(joined.stdout).toContain(
      'seqs 7..9  3 received, none missing (gateway.started not seen: judged from the lowest seq received)',
    );
  });

  it('exit 2 on usage errors and unreadable files; --help is exit 0', async () => {
    const file = join(tempDir(), 'e.jsonl');
    writeFileSync(file, lines([started(1)]));
    for (const args of [
      [],
      ['--url', 'mqtt://x', '--file', file],
      ['--url', 'mqtt://x', '--seconds', 'soon'],
      ['--file', file, '--seconds', '3'],
      ['--file', file, '--frobnicate'],
      ['--file', file, 'extra'],
    ]) {
      const r = await run(CHECK_CLI, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^check-delivery: .+\nusage: check-delivery/);
    }
    const missing = await run(CHECK_CLI, ['--file', join(tempDir(), 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.jsonl: ENOENT/);
    const help = await run(CHECK_CLI, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: check-delivery/);
  });
});
