/**
 * County flows push through the built CLI with a real broker, a real Node-RED child and a Modbus
 * panic panel, attacked as a stranger would: flows.get without credentials; flows.apply refused
 * (stale revision, not nodes, unknown or excluded types, credentials, too big) with nothing
 * changed; a good push applied after probation; pushed flows that call process.exit(1) or spin
 * in a timer (the heartbeat kills the child) rolled back by themselves, naming why; a push the
 * agent went down under rolled back at its next start. After each bad push a resident's press
 * still sounds the siren (the local alarm path) and reaches the county.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CLI } from '../helpers/agent-child.js';
import { editorVillage } from '../helpers/editor-village.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { editorEnv, injectedFunction } from '../helpers/node-red.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { baseConfig, PushRig, type Reply } from './push-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const CRED_MARKER = 'cred-marker-4417';
/** The flows on the gateway before any push: a tab, a comment, a broker config node carrying credentials inline. */
const onSite = [
  { id: 'site-tab', type: 'tab', label: 'on site' },
  { id: 'site-note', z: 'site-tab', type: 'comment', name: 'deployed on site' },
  { id: 'site-broker', type: 'mqtt-broker', broker: '127.0.0.1', credentials: { user: 'u', password: CRED_MARKER } },
];

/** What a crash loop leaves on disk (agent/nodered/crash-loop.ts): the agent, restarted, starts Node-RED in safe mode. */
const crashLoopRecord = () =>
  JSON.stringify({
    starts: [],
    exits: [],
    heartbeatKills: [],
    safeMode: { since: Date.now(), reason: 'exits', count: 5 },
  });
const EXIT = "Buffer.constructor('return process')().exit(1); return msg;";

async function village(
  id: string,
  nodeRed: Record<string, unknown> = {},
  flows: unknown[] = onSite,
  crashLoop = false,
) {
  const dir = tempDir();
  const { panel, file } = await editorVillage(dir, { id, brokerUrl: brokerRef.current.url }, cleanup);
  const config = parse(readFileSync(file, 'utf8')) as { nodeRed: Record<string, unknown> };
  writeFileSync(file, stringify({ ...config, nodeRed: { ...config.nodeRed, ...nodeRed } }));
  const flowFile = join(dir, 'data', 'node-red', 'flows.json');
  mkdirSync(join(dir, 'data', 'node-red'), { recursive: true });
  writeFileSync(flowFile, JSON.stringify(flows, null, 4));
  if (crashLoop) writeFileSync(join(dir, 'data', 'node-red-crash-loop.json'), crashLoopRecord());
  const r = new PushRig(id, dir, brokerRef.current.url, cleanup, editorEnv());
  expect(r.file).toBe(file);
  await r.begin();
  await r.event('nodered.started', 60_000);
  const ofType = (type: string) => r.events.filter((e) => e.type === type);
  /** A resident's press: the siren sounds (locally, whatever the flows do) and the county hears the press. */
  const press = async () => {
    const n = ofType('alarm.pressed').length;
    expect(await panel.press('di1', 10_000, () => r.agent.running), 'the siren').toBe(true);
    await waitUntil(() => ofType('alarm.pressed').length > n, 20_000, 'the press at the county');
  };
  const get = async () => {
    const got = await r.command('flows.get');
    expect(got.ok, JSON.stringify(got.error)).toBe(true);
    return got.result as { revision: string; nodeRedVersion: string; flows: { id: string; type: string }[] };
  };
  return { r, flowFile, ofType, press, get };
}

const code = (reply: Reply) => reply.error?.code;

describe('flows push', () => {
  it(
    'flows.get without credentials; refusals change nothing; a good push is applied; a push the agent went down under is rolled back at its next start',
    { timeout: 180_000 },
    async () => {
      const v = await village('gw-flows-get');
      const { r } = v;
      const first = await v.get();
      expect(first.revision).toMatch(/^[0-9a-f]{12}$/);
      expect(first.nodeRedVersion).toMatch(/^4\./);
      expect(first.flows.map((n) => n.id)).toEqual(['site-tab', 'site-note', 'site-broker']);
      expect(JSON.stringify(first)).not.toContain(CRED_MARKER);
      const bytes = readFileSync(v.flowFile);
      const starts = v.ofType('nodered.started').length;

      const good = injectedFunction('return msg;', 0, 'good');
      const stale = await r.command('flows.apply', { flows: good, expectedRevision: 'abcdef123456' });
      expect(code(stale)).toBe('REVISION_MISMATCH');
      expect(stale.error!.message).toContain(first.revision);
      expect(stale.error!.message).toContain('abcdef123456');
      const at = { expectedRevision: first.revision };
      expect(code(await r.command('flows.apply', { flows: { nodes: good }, ...at }))).toBe('FLOWS_INVALID');
      const unknown = await r.command('flows.apply', {
        flows: [...good, { id: 'x1', z: 'good-tab', type: 'exec' }, { id: 'x2', z: 'good-tab', type: 'evil' }],
        ...at,
      });
      expect(code(unknown)).toBe('FLOWS_NODE_UNKNOWN');
      expect(unknown.error!.message).toContain('exec is off on this gateway');
      expect(unknown.error!.message).toContain("evil is not a node type of this gateway's Node-RED");
      const creds = await r.command('flows.apply', {
        flows: [...good, { id: 'b', type: 'mqtt-broker', credentials: { password: 'pushed-secret-8' } }],
        ...at,
      });
      expect(code(creds)).toBe('FLOWS_CREDENTIALS');
      expect(creds.error!.message).not.toContain('pushed-secret-8');
      const big = [...good, { id: 'c', z: 'good-tab', type: 'comment', info: 'x'.repeat(50_000) }];
      expect(code(await r.command('flows.apply', { flows: big, ...at }))).toBe('FLOWS_TOO_LARGE');
      // Past the command limit: refused by the router before it is even read (no id to answer with).
      const huge = [...good, { id: 'c', z: 'good-tab', type: 'comment', info: 'x'.repeat(70_000) }];
      const body = { id: 'huge', args: { flows: huge, ...at }, sentAt: Date.now() };
      await r.county.client!.publishAsync(`village/${r.gatewayId}/cmd/flows.apply`, JSON.stringify(body), { qos: 1 });
      await waitUntil(() => r.replies.some((x) => x.error?.code === 'TOO_LARGE'), 10_000, 'the TOO_LARGE reply');
      expect(readFileSync(v.flowFile)).toEqual(bytes);
      await new Promise((res) => setTimeout(res, 1000));
      expect(v.ofType('nodered.started')).toHaveLength(starts); // nothing restarted

      const applied = await r.command('flows.apply', { flows: good, ...at, by: 'county-test', probationSec: 2 });
      expect(applied.ok, JSON.stringify(applied.error)).toBe(true);
      const revision = applied.result!.revision as string;
      const ok = await r.event('flows.applied', 60_000);
      expect(ok.priority).toBe('critical');
      expect(ok.data).toEqual({
        revision,
        previousRevision: first.revision,
        by: 'county-test',
        keyId: null,
        probationSec: 2,
      });
      const now = await v.get();
      expect(now.revision).toBe(revision);
      expect(now.flows.map((n) => n.id)).toEqual(['good-tab', 'good-inject', 'good-fn']);

      // A long probation: either push waits for it; then the agent dies under it.
      const next = injectedFunction('return msg;', 0, 'next');
      const pending = await r.command('flows.apply', { flows: next, expectedRevision: revision, probationSec: 300 });
      expect(pending.ok, JSON.stringify(pending.error)).toBe(true);
      // The technician sees it being judged.
      const status = spawnSync(process.execPath, [CLI, 'status', '--config', r.file], {
        encoding: 'utf8',
        env: { ...process.env, ...editorEnv() },
      });
      expect(status.stdout).toMatch(
        new RegExp(`push +flows ${String(pending.result!.revision)} on probation\\n +\\d+ min left`),
      );
      const again = await r.command('flows.apply', { flows: good, expectedRevision: pending.result!.revision });
      expect(code(again)).toBe('CONFIG_PUSH_PENDING');
      const config = await r.command('config.get');
      const cfg = await r.command('config.apply', {
        config: config.result!.config,
        expectedHash: config.result!.configHash,
      });
      expect(code(cfg)).toBe('CONFIG_PUSH_PENDING');
      expect(cfg.error!.message).toContain('flows push');
      const startsBefore = v.ofType('nodered.started').length;
      await r.agent.kill('SIGKILL');
      r.startAgent();
      const back = await r.event('flows.rolled_back', 60_000);
      expect(back.data).toMatchObject({ revision: pending.result!.revision, previousRevision: revision, by: 'county' });
      expect(back.data.reason).toContain('the agent restarted during probation');
      await waitUntil(() => v.ofType('nodered.started').length > startsBefore, 60_000, 'Node-RED again');
      expect((await v.get()).revision).toBe(revision);

      await v.press();
      // The alert the press raised is not acknowledged: no push restarts the flows under it.
      const during = await r.command('flows.apply', { flows: next, expectedRevision: revision });
      expect(code(during)).toBe('ALARM_ACTIVE');
    },
  );

  // Each as a stranger would write it; the child's own timeouts cut none of them.
  it.each([
    {
      id: 'exit',
      what: 'call process.exit(1)',
      func: "Buffer.constructor('return process')().exit(1); return msg;",
      reason: 'under the pushed flows, the Node-RED child exited (code 1, signal none)',
    },
    {
      id: 'throw',
      what: 'throw in a loop where nothing catches it',
      func: "setInterval(() => Buffer.constructor('return process')().nextTick(() => { throw new Error('loop'); }), 100); return msg;",
      reason: 'under the pushed flows, the Node-RED child exited (code 1, signal none)',
    },
    {
      // In a timer: the function node's own timeout cannot cut it, only the agent's heartbeat can.
      id: 'spin',
      what: 'spin (the child stops answering its heartbeat)',
      func: 'setTimeout(() => { while (true) {} }, 200); return msg;',
      reason: 'under the pushed flows, the Node-RED child stopped answering its heartbeat and was killed',
    },
  ])(
    'pushed flows that $what are rolled back, naming why; a press still reaches siren and county',
    { timeout: 150_000 },
    async ({ id, func, reason }) => {
      const v = await village(`gw-flows-${id}`);
      const before = await v.get();
      const flows = injectedFunction(func, 0, 'bad');
      const reply = await v.r.command('flows.apply', { flows, expectedRevision: before.revision, probationSec: 3 });
      expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
      await v.press(); // while the pushed flows run: the alarm path does not go through them
      const back = await v.r.event('flows.rolled_back', 90_000);
      expect(back.priority).toBe('critical');
      expect(back.data.reason).toBe(reason);
      await waitUntil(() => v.ofType('nodered.started').length >= 3, 60_000, 'Node-RED back with the old flows');
      expect((await v.get()).revision).toBe(before.revision);
      expect(v.r.events.some((e) => e.type === 'flows.applied')).toBe(false);
      await v.press();
    },
  );

  it(
    "in a crash loop's safe mode a push leaves it for the pushed flows, and one that fails goes back to it",
    { timeout: 180_000 },
    async () => {
      const v = await village('gw-flows-loop', {}, injectedFunction(EXIT, 0, 'crashing'), true);
      const started = () => v.ofType('nodered.started');
      expect(started()[0]!.data.safeMode).toBe(true); // the crashing flows on site do not run
      const before = await v.get();
      const bad = await v.r.command('flows.apply', {
        flows: injectedFunction(EXIT, 0, 'worse'),
        expectedRevision: before.revision,
        probationSec: 3,
      });
      expect(bad.ok, JSON.stringify(bad.error)).toBe(true);
      expect(bad.result!.leftSafeMode).toBe(true);
      const back = await v.r.event('flows.rolled_back', 90_000);
      expect(back.data.reason).toBe('under the pushed flows, the Node-RED child exited (code 1, signal none)');
      expect(v.ofType('nodered.safe_mode_left').map((e) => e.data.by)).toEqual(['push']);
      // Back in safe mode with the flows that crashed before, not running them.
      await waitUntil(() => started().length >= 3, 60_000, 'Node-RED started again after the rollback');
      expect(started().map((e) => e.data.safeMode)).toEqual([true, false, true]);
      expect((await v.get()).revision).toBe(before.revision);

      const good = injectedFunction('return msg;', 0, 'fixed');
      const fix = await v.r.command('flows.apply', { flows: good, expectedRevision: before.revision, probationSec: 2 });
      expect(fix.ok, JSON.stringify(fix.error)).toBe(true);
      const applied = await v.r.event('flows.applied', 60_000);
      expect(applied.data).toMatchObject({ revision: fix.result!.revision, previousRevision: before.revision });
      expect(started().at(-1)!.data.safeMode).toBe(false);
      expect((await v.get()).flows.map((n) => n.id)).toEqual(['fixed-tab', 'fixed-inject', 'fixed-fn']);
      await v.press();
    },
  );

  it(
    'is refused in safe mode (the flows could not be judged) and on a gateway without Node-RED',
    { timeout: 90_000 },
    async () => {
      const bare = new PushRig('gw-flows-none', tempDir(), brokerRef.current.url, cleanup);
      await bare.start(baseConfig(bare.gatewayId, bare.dir, bare.url));
      expect(code(await bare.command('flows.get'))).toBe('NO_NODE_RED');
      expect(code(await bare.command('flows.apply', { flows: [], expectedRevision: 'none' }))).toBe('NO_NODE_RED');

      const v = await village('gw-flows-safe', { safeMode: true });
      const before = await v.get();
      const flows = injectedFunction('return msg;', 0, 'calm');
      const reply = await v.r.command('flows.apply', { flows, expectedRevision: before.revision });
      expect(code(reply)).toBe('FLOWS_SAFE_MODE');
      expect((await v.get()).revision).toBe(before.revision);
    },
  );
});
