/**
 * Judges pushed flows (flows-push.ts) over their probation window. They pass once the window is
 * over and the child restarted with them, is running out of safe mode and has answered its
 * heartbeat at least once; they fail at once when the child goes without the agent asking (it
 * crashed, called process.exit, stopped answering its heartbeat, was not ready in time, went over
 * its memory bound: any one of these right after a push is the push), or when it started in safe
 * mode; and they fail if no verdict came by the window plus GRACE_MS. A failure writes the last
 * good flow file back, restarts the child and says why (flows.rolled_back); a pass says
 * flows.applied. The record (push-state.ts) is written before either event, so a crash of the
 * agent in between is finished at its next start.
 */
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import { errorMessage, failure } from '../../core/kernel/errors.js';
import type { ChildLife } from '../nodered/report.js';
import { z } from 'zod';
import type { SafeModeRecord } from '../nodered/start-record.js';
import { basePushState, pushRecord, type BasePushState } from './push-state.js';

const SAMPLE_MS = 500;
/** Past the window: time for a heartbeat kill (15 s) or a start limit (30 s) to have come. */
const GRACE_MS = 60_000;

/** A flows push's record; `safeModeLeft`: the crash loop's safe mode the push left, which a rollback comes back to. */
const flowsPushState = basePushState.extend({
  safeModeLeft: z
    .object({ since: z.number(), reason: z.enum(['heartbeat-kills', 'exits', 'starts']), count: z.number() })
    .nullable()
    .default(null),
});
export type FlowsPushState = z.infer<typeof flowsPushState>;
export const flowsRecord = pushRecord('flows', flowsPushState);

export interface WatchedSupervisor {
  restartForFlows(): void;
  returnToSafeMode(saved: SafeModeRecord, restart: boolean): void;
  life(): ChildLife;
  describe(): { state: string; safeMode: boolean };
}

export interface FlowsVerdictPorts {
  dataDir: string;
  gatewayId: string;
  logger: Logger;
  emit(e: EventInput): Promise<unknown>;
  supervisor: WatchedSupervisor;
  /** Puts the flows the push replaced back in place (unless deployed on site since). */
  putBack(s: FlowsPushState): void;
}

const CRASH: Record<string, string> = {
  exit: 'exited',
  heartbeat: 'stopped answering its heartbeat and was killed',
  'start-timeout': 'was not ready within its start limit and was killed',
  memory: 'went over its memory bound and was killed',
  channel: 'broke its channel to the agent and was killed',
};

export function crashReason(c: ChildLife['lastCrash']): string {
  const how = c ? (CRASH[c.reason] ?? c.reason) : 'went';
  const detail = c && c.reason === 'exit' ? ` (code ${c.code ?? 'none'}, signal ${c.signal ?? 'none'})` : '';
  return `under the pushed flows, the Node-RED child ${how}${detail}`;
}

export class FlowsProbation {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly p: FlowsVerdictPorts) {}

  /** Watches a push whose child restart was just asked for; `before` is the child's life before it. */
  watch(s: FlowsPushState, before: ChildLife): void {
    this.stop();
    const sup = this.p.supervisor;
    const sample = () => {
      const life = sup.life();
      const d = sup.describe();
      if (d.state === 'stopping' || d.state === 'stopped') return this.stop(); // the agent stops: judged at its next start
      if (life.crashes > before.crashes) return this.fail(s, crashReason(life.lastCrash));
      const restarted = life.ready > before.ready;
      if (restarted && d.safeMode) return this.fail(s, 'the Node-RED child started in safe mode');
      const elapsed = Date.now() - s.since;
      if (elapsed >= s.probationSec * 1000 && restarted && d.state === 'running' && life.pongsSinceReady > 0)
        return this.pass(s);
      if (elapsed > s.probationSec * 1000 + GRACE_MS)
        this.fail(s, 'the Node-RED child did not start and answer its heartbeat with the pushed flows');
    };
    this.timer = setInterval(sample, SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Rolls back: the previous flows in place, the record says so, the child restarts, then the county hears why. */
  fail(s: FlowsPushState, reason: string, restart = true): void {
    this.stop();
    const { logger, dataDir } = this.p;
    logger.error(
      failure('NODE_RED_FAILED', reason, { revision: s.hash, previous: s.previousHash }),
      'pushed flows failed probation: rolling back',
    );
    try {
      this.p.putBack(s);
    } catch (err) {
      // Said in the reason: the county must know the pushed flows may still be in place (a link planted, a full card).
      reason = `${reason}; the previous flows could not be put back: ${errorMessage(err)}`;
      logger.error(failure('STATE_NOT_SAVED', err), 'previous flows not put back');
    }
    const done = { ...s, phase: 'rolled_back' as const, reason };
    flowsRecord.write(dataDir, done);
    // Pushed to leave a crash loop: the flows put back are the ones that crashed, so back to safe mode, not to them.
    if (s.safeModeLeft) this.p.supervisor.returnToSafeMode(s.safeModeLeft, restart);
    else if (restart) this.p.supervisor.restartForFlows();
    this.report(done);
  }

  /** Tells the county of a rollback (again after a crash that came before it was stored); forgets it once stored. */
  report(s: BasePushState): void {
    const data = {
      revision: s.hash,
      previousRevision: s.previousHash,
      reason: s.reason ?? 'unknown',
      by: s.by,
      keyId: s.keyId,
    };
    void this.p
      .emit({ deviceId: this.p.gatewayId, type: 'flows.rolled_back', priority: 'critical', data })
      .then(() => flowsRecord.clear(this.p.dataDir))
      .catch((e: unknown) => this.p.logger.error(failure('STORAGE_FAILED', e), 'flows.rolled_back not stored'));
  }

  private pass(s: FlowsPushState): void {
    this.stop();
    // Forgotten first: a full card (no event stored) must not leave a record that rolls good flows back later.
    flowsRecord.clear(this.p.dataDir);
    const data = {
      revision: s.hash,
      previousRevision: s.previousHash,
      by: s.by,
      keyId: s.keyId,
      probationSec: s.probationSec,
    };
    void this.p
      .emit({ deviceId: this.p.gatewayId, type: 'flows.applied', priority: 'critical', data })
      .catch((e: unknown) => this.p.logger.error(failure('STORAGE_FAILED', e), 'flows.applied not stored'));
  }
}
