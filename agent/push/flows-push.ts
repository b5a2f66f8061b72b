/**
 * `flows.get` and `flows.apply` behind the county's commands: the Node-RED flow file read (never
 * its credentials file) and replaced only if the county names the revision it replaces (the
 * editor on site may have deployed meanwhile: neither side silently overwrites the other), the new
 * flows checked (flows-check.ts), the previous file kept as last good in the agent's own data
 * folder (not the flows' user's), the child restarted, and the probation (flows-probation.ts)
 * judging it. A push on probation when the agent starts means the agent went down under it: it
 * is rolled back before the child starts, as config push does.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, failure, GatewayError } from '../../core/kernel/errors.js';
import { writeFileDurably } from '../durable-file.js';
import { checkFlows, knownTypes, MAX_FLOWS_BYTES, nodeRedVersion } from './flows-check.js';
import { flowFilePath, readFlowFile, writeFlowFile } from './flows-file.js';
import type { SafeModeReason } from '../nodered/safe-mode.js';
import type { SafeModeRecord } from '../nodered/start-record.js';
import { flowsRecord, FlowsProbation, type FlowsPushState, type FlowsVerdictPorts } from './flows-probation.js';
import { DEFAULT_PROBATION_SEC, hashOf, pushOnProbation } from './push-state.js';

/** The revision the county names when the gateway has no flow file yet. */
export const NO_FLOWS = 'none';

export interface FlowsApplyArgs {
  flows: unknown;
  expectedRevision: string;
  by?: string | undefined;
  /** The county key that signed the push (null: commands are not signed). */
  keyId?: string | null;
  probationSec?: number | undefined;
}

/** What a push needs of the supervisor beyond what its probation watches. */
export interface PushedSupervisor {
  safeModeReasons(): SafeModeReason[];
  leaveSafeModeForPush(): SafeModeRecord | null;
}

export interface FlowsPushPorts extends Omit<FlowsVerdictPorts, 'putBack' | 'supervisor'> {
  supervisor: FlowsVerdictPorts['supervisor'] & PushedSupervisor;
  flowFile: string;
  nodesDir: string;
  allowNodes: readonly string[];
  version: string;
}

export class FlowsPush {
  private readonly file: string;
  private readonly lastGood: string;
  private readonly probation: FlowsProbation;

  constructor(private readonly p: FlowsPushPorts) {
    this.file = flowFilePath(p.dataDir, p.flowFile);
    // In the agent's folder: the userDir is the flows' user's, who must not be able to choose what a rollback writes.
    this.lastGood = join(p.dataDir, 'flows-push.last-good.json');
    this.probation = new FlowsProbation({ ...p, putBack: (s) => this.putBack(s) });
  }

  /** Before the child starts: finishes a rollback not yet reported, or rolls back a push the agent went down under. */
  atStart(): void {
    try {
      this.judgeAtStart();
    } catch (err) {
      // Never in the way of the agent's start (its alarms): a flow file the flows' user made a link is refused, and said.
      this.p.logger.error(failure('NODE_RED_FAILED', err), 'a pushed flows record could not be judged at start');
    }
  }

  private judgeAtStart(): void {
    const s = flowsRecord.read(this.p.dataDir);
    if (!s) return;
    if (s.phase === 'rolled_back') return this.probation.report(s);
    if (this.revision() !== s.hash) return flowsRecord.clear(this.p.dataDir); // the new file never landed
    this.probation.fail(s, 'the agent restarted during probation (a crash, a kill, a power cut or a restart)', false);
  }

  stop(): void {
    this.probation.stop();
  }

  get() {
    const bytes = readFlowFile(this.file, MAX_FLOWS_BYTES);
    let flows: unknown = [];
    if (bytes && bytes.length > 0)
      try {
        flows = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new GatewayError(
          'FLOWS_UNREADABLE',
          'the flow file on the gateway is not JSON: fix it in the editor on site',
        );
      }
    // Node-RED keeps credentials in the _cred file; a node carrying them in the flow file is not sent either.
    const nodes = Array.isArray(flows) ? flows.map((n: unknown) => withoutCredentials(n)) : [];
    return {
      revision: bytes ? hashOf(bytes) : NO_FLOWS,
      nodeRedVersion: nodeRedVersion(),
      version: this.p.version,
      flows: nodes,
    };
  }

  apply(a: FlowsApplyArgs) {
    const pending = pushOnProbation(this.p.dataDir);
    if (pending) throw new GatewayError('CONFIG_PUSH_PENDING', `the previous ${pending} push is still on probation`);
    const sup = this.p.supervisor;
    // A crash loop's safe mode is what a push may fix: the pushed flows leave it (and a rollback comes back to it).
    const held = sup.safeModeReasons().filter((r) => r !== 'crash-loop');
    if (held.length > 0)
      throw new GatewayError(
        'FLOWS_SAFE_MODE',
        held.includes('config')
          ? 'Node-RED is in safe mode set by the config (nodeRed.safeMode): pushed flows would not run, so they could not be judged'
          : 'Node-RED is in safe mode while the card is full (the disk reserve is out): pushed flows could not be judged',
      );
    const inCrashLoop = sup.safeModeReasons().includes('crash-loop');
    const current = this.revision();
    if (a.expectedRevision !== current)
      throw new GatewayError(
        'REVISION_MISMATCH',
        `the flow file on the gateway is ${current}, the push expected ${a.expectedRevision} (deployed on site meanwhile?): read it again (flows.get)`,
      );
    const flows = checkFlows(a.flows, { known: knownTypes(this.p.nodesDir), allowNodes: this.p.allowNodes });
    // As Node-RED writes it with flowFilePretty: a later deploy from the editor changes only what changed.
    const text = JSON.stringify(flows, null, 4);
    const probationSec = a.probationSec ?? DEFAULT_PROBATION_SEC;
    const s: FlowsPushState = {
      phase: 'probation' as const,
      hash: hashOf(text),
      previousHash: current,
      by: a.by ?? 'county',
      keyId: a.keyId ?? null,
      since: Date.now(),
      probationSec,
      safeModeLeft: null,
    };
    if (current === NO_FLOWS) rmSync(this.lastGood, { force: true });
    else writeFileDurably(this.lastGood, readFlowFile(this.file, Number.MAX_SAFE_INTEGER)!.toString('utf8'));
    // The record first: a power cut before the new file lands finds the old revision on disk and drops it.
    flowsRecord.write(this.p.dataDir, s);
    try {
      writeFlowFile(this.file, text);
    } catch (err) {
      flowsRecord.clear(this.p.dataDir); // nothing landed: no push is pending
      throw new GatewayError('STATE_NOT_SAVED', `the flow file could not be written: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const before = sup.life();
    if (inCrashLoop) {
      s.safeModeLeft = sup.leaveSafeModeForPush(); // restarts the child with the pushed flows
      flowsRecord.write(this.p.dataDir, s); // what a rollback (or a restart inside the window) comes back to
    } else sup.restartForFlows();
    this.probation.watch(s, before);
    return {
      accepted: true,
      revision: s.hash,
      previousRevision: current,
      probationSec,
      leftSafeMode: s.safeModeLeft !== null,
      note: `Node-RED ${s.safeModeLeft ? 'leaves safe mode and ' : ''}restarts with them now; flows.applied follows after probation, or flows.rolled_back with the reason${s.safeModeLeft ? ' (and safe mode again)' : ''}`,
    };
  }

  private revision(): string {
    const bytes = readFlowFile(this.file, Number.MAX_SAFE_INTEGER);
    return bytes ? hashOf(bytes) : NO_FLOWS;
  }

  private putBack(s: FlowsPushState): void {
    if (this.revision() !== s.hash) return; // deployed on site since: the technician's, not ours to overwrite
    if (existsSync(this.lastGood)) writeFlowFile(this.file, readFileSync(this.lastGood, 'utf8'));
    else rmSync(this.file, { force: true }); // there was none: the child starts with the shipped default again
  }
}

function withoutCredentials(n: unknown): unknown {
  if (typeof n !== 'object' || n === null || !('credentials' in n)) return n;
  const { credentials: _dropped, ...rest } = n as Record<string, unknown>;
  return rest;
}
