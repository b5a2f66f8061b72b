/**
 * The county's villages tool (scripts/county/villages.ts) against a real Mosquitto and real
 * agents run through the built CLI: `list` with one gateway stopped, and `apply-config` of a
 * merge patch in waves, a good one (the rule fires on every gateway) and a bad one (the canary
 * rolls back and the others are never touched).
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../scripts/county/villages-list.js';
import type { GatewayResult } from '../../scripts/county/villages-config.js';
import { freePort } from '../../scripts/brokers/free-port.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { ioBoard, tcpBus } from '../helpers/village-config.js';
import { waitUntil } from '../helpers/wait.js';
import { baseConfig } from '../push/push-rig.js';
import { countyKey } from '../helpers/county-keys.js';
import { village as villageOf } from './villages-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const village = (tag: string, over: Record<string, unknown> = {}) =>
  villageOf({ url: brokerRef.current.url, tempDir, cleanup }, tag, over);

/** The configHash of the newest status of `id`. */
const hashOf = (statuses: Record<string, unknown>[], id: string) =>
  statuses.filter((s) => s.gatewayId === id).at(-1)?.configHash;

const writePatch = (patch: unknown) => {
  const file = join(tempDir(), 'patch.json');
  writeFileSync(file, JSON.stringify(patch));
  return file;
};

describe('villages tool', () => {
  it(
    'lists every gateway; a stopped one is shown as not answering with its last-known values',
    { timeout: 60_000 },
    async () => {
      const v = await village('list');
      const state = join(tempDir(), 'state.json');
      const all = await v.run('list', '--json', '--state', state, '--timeout', '5');
      expect(all.code).toBe(0);
      const first = (JSON.parse(all.out) as { gateways: Row[] }).gateways;
      expect(first.map((r) => [r.gatewayId, r.answering])).toEqual(v.ids.map((id) => [id, true]));
      for (const r of first) {
        expect(r.configHash).toBe(hashOf(v.statuses, r.gatewayId));
        expect(r.values).toMatchObject({ devicesDown: [], push: null, link: { reconnects: 0 } });
        expect(r.values!.backlog).toBeGreaterThanOrEqual(0);
        expect(r.lastContactAgeMs).toBeLessThan(5_000);
        expect(r.problem).toBeNull();
      }

      const stopped = v.ids[2]!;
      await v.agents.get(stopped)!.kill('SIGTERM');
      await waitUntil(() => v.statuses.at(-1)?.state === 'offline', 10_000, 'the stopped gateway offline');
      const again = await v.run('list', '--json', '--state', state, '--timeout', '2');
      expect(again.code).toBe(1); // one did not answer
      const rows = (JSON.parse(again.out) as { gateways: Row[] }).gateways;
      expect(rows.map((r) => r.gatewayId)).toEqual(v.ids); // never dropped
      const gone = rows.find((r) => r.gatewayId === stopped)!;
      expect(gone.answering).toBe(false);
      expect(gone.status).toBe('offline (shutdown)');
      expect(gone.configHash).toBe(first[2]!.configHash);
      expect(gone.values).toEqual(first[2]!.values); // the first run's answer, kept in the state file
      expect(rows.filter((r) => r.answering)).toHaveLength(2);

      const table = await v.run('list', '--state', state, '--timeout', '2', '--mqtt-version', '5');
      const line = table.out.split('\n').find((l) => l.startsWith(stopped))!;
      expect(line).toMatch(/NO, offline \(shutdown\)/);
      expect(line).toMatch(/\(known \d+ s ago\)/);
      expect(table.out.split('\n')[0]).toMatch(
        /^gateway +answers +version +config +contact +backlog +link +down +push$/,
      );
      // A push whose canary does not answer stops at once: the others are not touched.
      const push = writePatch({ health: { intervalSec: 900 } });
      const blind = await v.run(
        'apply-config',
        '--patch',
        push,
        '--gateways',
        `${stopped},${v.ids[0]}`,
        '--timeout',
        '2',
      );
      expect(blind.code).toBe(1);
      expect(blind.out).toContain(`wave 1  ${stopped}  timeout: no reply to config.get in 2000 ms`);
      expect(blind.out).toContain(`wave 2  ${v.ids[0]}  not_reached`);
    },
  );

  it(
    'a patch that adds a rule goes out in waves and the rule fires on every gateway',
    { timeout: 120_000 },
    async () => {
      const v = await village('good');
      const before = v.ids.map((id) => hashOf(v.statuses, id));
      const patch = writePatch({
        rules: [
          {
            id: 'meter-seen',
            when: { type: 'sensor.telemetry', devices: ['meter'] },
            actions: [{ do: 'alert', priority: 'high', message: 'meter reported' }],
          },
        ],
      });
      const { code, out } = await v.run('apply-config', '--patch', patch, '--probation', '2', '--by', 'test', '--json');
      const res = JSON.parse(out.split('\n').at(-1)!) as { ok: boolean; gateways: GatewayResult[] };
      expect(res.gateways.map((r) => [r.gatewayId, r.wave, r.outcome])).toEqual([
        [v.ids[0], 1, 'applied'],
        [v.ids[1], 2, 'applied'],
        [v.ids[2], 3, 'applied'],
      ]);
      expect(code).toBe(0);
      for (const [i, r] of res.gateways.entries()) {
        expect(r.previousHash).toBe(before[i]);
        expect(r.hash).not.toBe(before[i]);
      }
      for (const id of v.ids)
        await waitUntil(
          () => v.events.some((e) => e.gatewayId === id && e.type === 'alert.raised' && e.data.rule === 'meter-seen'),
          15_000,
          `the rule firing on ${id}`,
        );
      // Wave order: the canary's verdict came before the next wave's apply.
      const applied = v.events.filter((e) => e.type === 'config.applied').map((e) => e.gatewayId);
      expect(applied).toEqual(v.ids);
      // The rule's alerts are open on every gateway now: the next push is refused on the canary, and stops there.
      const during = await v.run('apply-config', '--patch', writePatch({ health: { intervalSec: 900 } }));
      expect(during.code).toBe(1);
      expect(during.out).toMatch(
        new RegExp(`wave 1  ${v.ids[0]}  refused \\(still \\w+\\): config.apply ALARM_ACTIVE: \\d+ alert`),
      );
      expect(during.out).toContain(`wave 2  ${v.ids[1]}  not_reached`);
    },
  );

  it(
    'a patch whose bus cannot open rolls back on the canary and the tool stops there',
    { timeout: 120_000 },
    async () => {
      const v = await village('bad');
      await new Promise((res) => setTimeout(res, 1000)); // the synthetic meters run: online before the push
      const before = v.ids.map((id) => hashOf(v.statuses, id));
      // Valid, but the meter becomes a Modbus unit on a port nobody listens on: it never answers.
      const patch = writePatch({
        buses: [tcpBus(await freePort()) /* nothing listens there */],
        devices: [ioBoard({ id: 'meter', pollMs: 100, inputs: { di1: { role: 'input' } } })],
      });
      const { code, out } = await v.run('apply-config', '--patch', patch, '--probation', '3');
      expect(code).toBe(1);
      expect(out).toMatch(
        new RegExp(
          `wave 1  ${v.ids[0]}  rolled_back ${before[0]} -> \\w+ in [\\d.]+ s: devices not online again: meter`,
        ),
      );
      expect(out).toContain(`wave 2  ${v.ids[1]}  not_reached`);
      expect(out).toContain(`wave 3  ${v.ids[2]}  not_reached`);
      expect(out).toContain(`stopped at ${v.ids[0]} (rolled_back); later gateways untouched`);
      // The canary runs its old config again; the other two never changed.
      await waitUntil(() => hashOf(v.statuses, v.ids[0]!) === before[0], 15_000, 'the canary back on its config');
      const list = await v.run('list', '--json', '--timeout', '5');
      const rows = (JSON.parse(list.out) as { gateways: Row[] }).gateways;
      expect(rows.map((r) => r.configHash)).toEqual(before);
      expect(v.events.filter((e) => e.type.startsWith('config.') && e.gatewayId !== v.ids[0])).toEqual([]);
    },
  );

  it(
    'a whole config file goes to every gateway, each keeping its own id and data folder',
    { timeout: 120_000 },
    async () => {
      const v = await village('file');
      const before = v.ids.map((id) => hashOf(v.statuses, id));
      const dir = tempDir();
      const whole = { ...baseConfig('any-id', dir, brokerRef.current.url), health: { intervalSec: 600 } };
      const file = join(dir, 'district.yaml');
      writeFileSync(file, stringify(whole));
      const { code, out } = await v.run('apply-config', '--file', file, '--probation', '1', '--json');
      const res = JSON.parse(out) as { ok: boolean; gateways: GatewayResult[] };
      expect(res.gateways.map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied']);
      expect(res.ok).toBe(true);
      expect(code).toBe(0);
      const list = await v.run('list', '--json');
      const rows = (JSON.parse(list.out) as { gateways: Row[] }).gateways;
      for (const [i, r] of rows.entries()) {
        expect(r.configHash).toBe(res.gateways[i]!.hash);
        expect(r.configHash).not.toBe(before[i]);
      }
      // A patch that sets what every gateway already runs changes nothing: no restart for nothing.
      const same = writePatch({ health: { intervalSec: 600 } });
      const again = await v.run('apply-config', '--patch', same, '--json');
      const outcomes = (JSON.parse(again.out) as { gateways: GatewayResult[] }).gateways.map((r) => r.outcome);
      expect(outcomes).toEqual(['unchanged', 'unchanged', 'unchanged']);
      expect(again.code).toBe(0);
    },
  );
  it(
    'signs every command with --key for gateways that hold county keys; unsigned, they refuse',
    { timeout: 120_000 },
    async () => {
      const k = countyKey('county-1');
      const v = await village('signed', { county: { keys: [k.entry] } });
      const pem = join(tempDir(), 'county.pem');
      writeFileSync(pem, k.key.export({ format: 'pem', type: 'pkcs8' }));
      const plain = await v.run('list', '--timeout', '5');
      for (const id of v.ids) expect(plain.out).toMatch(new RegExp(`^${id} .*status refused: UNSIGNED`, 'm'));
      const signed = await v.run('list', '--json', '--timeout', '5', '--key', pem, '--key-id', 'county-1');
      expect(signed.code).toBe(0);
      const rows = (JSON.parse(signed.out) as { gateways: Row[] }).gateways;
      expect(rows.map((r) => [r.gatewayId, r.answering, r.problem])).toEqual(v.ids.map((id) => [id, true, null]));
      const patch = writePatch({ health: { intervalSec: 900 } });
      const unsignedPush = await v.run('apply-config', '--patch', patch);
      expect(unsignedPush.code).toBe(1);
      expect(unsignedPush.out).toMatch(new RegExp(`wave 1  ${v.ids[0]}  .*UNSIGNED`));
      const push = await v.run(
        'apply-config',
        '--patch',
        patch,
        '--probation',
        '2',
        '--key',
        pem,
        '--key-id',
        'county-1',
      );
      expect(push.code).toBe(0);
      await waitUntil(() => v.events.filter((e) => e.type === 'config.applied').length === 3, 15_000, 'three verdicts');
      for (const e of v.events.filter((x) => x.type === 'config.applied')) expect(e.data.keyId).toBe('county-1');
      await expect(v.run('list', '--key', pem)).rejects.toThrow(/--key and --key-id go together/); // before anything is sent
    },
  );
});
