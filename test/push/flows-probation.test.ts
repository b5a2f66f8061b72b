/**
 * The flows probation's verdicts (agent/push/flows-probation.ts) on a supervisor we drive by
 * hand (ours: its life counters are what the real child moves; flows-push.test.ts runs the real
 * one), with its record on a real folder: a pass needs the window over, the restarted child
 * running and one pong; a crash fails at once, naming it; a start in safe mode fails; a stopping
 * agent leaves the record for its next start.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedNodesDir } from '../../agent/nodered/child-files.js';
import { FlowsPush } from '../../agent/push/flows-push.js';
import { flowsRecord, FlowsProbation, crashReason, type FlowsPushState } from '../../agent/push/flows-probation.js';
import type { ChildLife } from '../../agent/nodered/report.js';
import type { EventInput } from '../../core/contracts/event.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();

function rig(probationSec = 1, safeModeLeft: FlowsPushState['safeModeLeft'] = null) {
  const dataDir = tempDir();
  const life: ChildLife = { ready: 1, pongsSinceReady: 3, crashes: 0, lastCrash: null };
  const view = { state: 'running', safeMode: false };
  const emitted: EventInput[] = [];
  let putBack = 0;
  let restarts = 0;
  const backToSafeMode: { since: number; restart: boolean }[] = [];
  const probation = new FlowsProbation({
    dataDir,
    gatewayId: 'gw-probation',
    logger: quietLogger(),
    emit: async (e) => void emitted.push(e),
    supervisor: {
      restartForFlows: () => void restarts++,
      returnToSafeMode: (saved, restart) => void backToSafeMode.push({ since: saved.since, restart }),
      life: () => ({ ...life }),
      describe: () => view,
    },
    putBack: () => void putBack++,
  });
  const s = {
    phase: 'probation' as const,
    hash: 'new',
    previousHash: 'old',
    by: 'county',
    keyId: null,
    since: Date.now(),
    probationSec,
    safeModeLeft,
  };
  flowsRecord.write(dataDir, s);
  const before = { ...life };
  probation.watch(s, before);
  const restarted = () => ((life.ready += 1), (life.pongsSinceReady = 0));
  return { dataDir, life, view, emitted, probation, restarted, counts: () => ({ putBack, restarts, backToSafeMode }) };
}

describe('flows probation', () => {
  it('passes only once the window is over and the restarted child answered a ping', async () => {
    const r = rig(1);
    r.restarted();
    await new Promise((res) => setTimeout(res, 1600));
    expect(r.emitted).toEqual([]); // the window is over, but no pong from the new child yet
    r.life.pongsSinceReady = 1;
    await waitUntil(() => r.emitted.length === 1, 3000, 'the verdict');
    expect(r.emitted[0]).toMatchObject({
      type: 'flows.applied',
      priority: 'critical',
      data: { revision: 'new', previousRevision: 'old', by: 'county', keyId: null, probationSec: 1 },
    });
    expect(flowsRecord.read(r.dataDir)).toBeNull();
    expect(r.counts()).toEqual({ putBack: 0, restarts: 0, backToSafeMode: [] });
  });

  it('a crash fails at once, naming it: the old flows back, the child restarted, the record gone once told', async () => {
    const r = rig(60);
    r.life.crashes += 1;
    r.life.lastCrash = { reason: 'memory', code: null, signal: 'SIGKILL' };
    await waitUntil(() => r.emitted.length === 1, 3000, 'the verdict');
    expect(r.emitted[0]).toMatchObject({
      type: 'flows.rolled_back',
      data: { reason: 'under the pushed flows, the Node-RED child went over its memory bound and was killed' },
    });
    expect(r.counts()).toEqual({ putBack: 1, restarts: 1, backToSafeMode: [] });
    await waitUntil(() => flowsRecord.read(r.dataDir) === null, 1000, 'the record cleared');
  });

  it('a push that left a crash loop goes back to that safe mode when it fails, not to the flows that crashed', async () => {
    const r = rig(60, { since: 1234, reason: 'exits', count: 5 });
    r.life.crashes += 1;
    r.life.lastCrash = { reason: 'exit', code: 1, signal: null };
    await waitUntil(() => r.emitted.length === 1, 3000, 'the verdict');
    expect(r.emitted[0]).toMatchObject({ type: 'flows.rolled_back' });
    expect(r.counts()).toEqual({ putBack: 1, restarts: 0, backToSafeMode: [{ since: 1234, restart: true }] });
  });

  it('a start in safe mode fails; a stopping agent leaves the record for its next start', async () => {
    const r = rig(60);
    r.restarted();
    r.view.safeMode = true;
    await waitUntil(() => r.emitted.length === 1, 3000, 'the verdict');
    expect(r.emitted[0]!.data).toMatchObject({ reason: 'the Node-RED child started in safe mode' });

    const q = rig(60);
    q.view.state = 'stopping';
    await new Promise((res) => setTimeout(res, 800));
    q.life.crashes += 1; // too late: no longer watched
    await new Promise((res) => setTimeout(res, 800));
    expect(q.emitted).toEqual([]);
    expect(flowsRecord.read(q.dataDir)?.phase).toBe('probation');
  });

  it('names an exit by its code and signal', () => {
    expect(crashReason({ reason: 'exit', code: null, signal: 'SIGSEGV' })).toBe(
      'under the pushed flows, the Node-RED child exited (code none, signal SIGSEGV)',
    );
  });

  it("a flow file the flows' user turned into a link stops neither the agent's start nor is read", () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'node-red'));
    writeFileSync(join(dataDir, 'secret'), 'not for the county');
    symlinkSync(join(dataDir, 'secret'), join(dataDir, 'node-red', 'flows.json'));
    const s = {
      phase: 'probation' as const,
      hash: 'new',
      previousHash: 'old',
      by: 'county',
      keyId: null,
      since: 0,
      probationSec: 5,
      safeModeLeft: null,
    };
    flowsRecord.write(dataDir, s);
    const push = new FlowsPush({
      dataDir,
      gatewayId: 'gw-link',
      logger: quietLogger(),
      emit: async () => undefined,
      supervisor: {
        restartForFlows: () => undefined,
        returnToSafeMode: () => undefined,
        safeModeReasons: () => [],
        leaveSafeModeForPush: () => null,
        life: () => ({ ready: 0, pongsSinceReady: 0, crashes: 0, lastCrash: null }),
        describe: () => ({ state: 'stopped', safeMode: false }),
      },
      flowFile: 'flows.json',
      nodesDir: shippedNodesDir(),
      allowNodes: [],
      version: 'test',
    });
    expect(() => push.atStart()).not.toThrow();
    expect(() => push.get()).toThrow(expect.objectContaining({ code: 'FLOWS_UNREADABLE' }));
    expect(() => push.apply({ flows: [], expectedRevision: 'none' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_PUSH_PENDING' }),
    );
  });
});
