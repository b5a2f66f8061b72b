/**
 * Judges a pushed config (config-push.ts) over its probation window: the county link comes
 * back, every device online before the push is seen online again, and the agent does not
 * restart meanwhile (any start of the process inside the window, a crash or a power cut,
 * counts against the new config: a config that crash-loops must not get a second try).
 * A failure puts the previous file back and reloads; the previous config, once running,
 * reports config.rolled_back. A pass reports config.applied.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import { failure } from '../../core/kernel/errors.js';
import { writeFileDurably } from '../durable-file.js';
import { clearPushState, hashOf, prePushFile, readPushState, writePushState, type PushState } from './push-state.js';

const SAMPLE_MS = 500;

export interface ProbationAgent {
  gatewayId: string;
  linkUp(): boolean;
  devicesOnline(): string[];
  emit(e: EventInput): Promise<unknown>;
}

export class Probation {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    /** Restarts the agent with the file as it is now (the previous config, put back). */
    private readonly reload: (by: string) => void,
  ) {}

  /** Before the config is loaded at process start: a push still on probation means the process restarted under it. */
  atStart(dataDir: string): boolean {
    const s = readPushState(dataDir);
    if (s?.phase !== 'probation') return false;
    if (this.diskHash() !== s.hash) return (clearPushState(dataDir), false); // the new file never landed
    this.rollBack(dataDir, s, 'the agent restarted during probation (a crash, a kill or a power cut)');
    return true;
  }

  /** Once an agent runs with `hash`: report a finished rollback, or judge a push on probation. */
  started(dataDir: string, hash: string, agent: ProbationAgent): void {
    this.stop();
    const s = readPushState(dataDir);
    if (!s) return;
    if (s.phase === 'rolled_back' || hash !== s.hash) {
      // The rollback ran; or the pushed config never started (the loop went back to the previous
      // one); or a reload on site (SIGHUP, reload-config) replaced the file before the end.
      const onSite = s.phase === 'probation' && this.diskHash() !== s.hash;
      if (s.phase === 'probation') this.putBack(s);
      const reason =
        s.reason ?? (onSite ? 'the file was replaced on site during probation' : 'the pushed config could not start');
      const data = { hash: s.hash, previousHash: s.previousHash, reason, by: s.by, keyId: s.keyId };
      this.logger.error(failure('CONFIG_CANNOT_RUN', reason, data), 'pushed config rolled back');
      void agent
        .emit({ deviceId: agent.gatewayId, type: 'config.rolled_back', priority: 'critical', data })
        .then(() => clearPushState(dataDir))
        .catch((e: unknown) => this.logger.error(failure('STORAGE_FAILED', e), 'config.rolled_back not stored'));
      return;
    }
    let linkSeen = false;
    const waiting = new Set(s.devicesOnline);
    const sample = () => {
      linkSeen ||= agent.linkUp();
      for (const id of agent.devicesOnline()) waiting.delete(id);
      if (Date.now() < s.since + s.probationSec * 1000) return;
      this.stop();
      const failed = [
        ...(linkSeen ? [] : ['the county link did not come back']),
        ...(waiting.size > 0 ? [`devices not online again: ${[...waiting].join(', ')}`] : []),
      ];
      if (failed.length > 0) return this.rollBack(dataDir, s, failed.join('; '), true);
      const data = {
        hash: s.hash,
        previousHash: s.previousHash,
        by: s.by,
        keyId: s.keyId,
        probationSec: s.probationSec,
      };
      // The judgement is made: forgotten first, so that a full card (no event stored) does not
      // leave a record that would roll a good config back at the next start.
      clearPushState(dataDir);
      void agent
        .emit({ deviceId: agent.gatewayId, type: 'config.applied', priority: 'critical', data })
        .catch((e: unknown) => this.logger.error(failure('STORAGE_FAILED', e), 'config.applied not stored'));
    };
    this.timer = setInterval(sample, SAMPLE_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private rollBack(dataDir: string, s: PushState, reason: string, reload = false): void {
    this.logger.error(
      failure('CONFIG_CANNOT_RUN', reason, { hash: s.hash, previous: s.previousHash }),
      'pushed config failed probation: rolling back',
    );
    this.putBack(s);
    writePushState(dataDir, { ...s, phase: 'rolled_back', reason });
    if (reload) this.reload('rollback');
  }

  private putBack(s: PushState): void {
    const backup = prePushFile(this.file);
    if (!existsSync(backup) || this.diskHash() !== s.hash) return; // edited since: not ours to overwrite
    writeFileDurably(this.file, readFileSync(backup, 'utf8'));
  }

  private diskHash(): string | null {
    try {
      return hashOf(readFileSync(this.file, 'utf8'));
    } catch {
      return null;
    }
  }
}
