/**
 * Whether the Node-RED child runs in safe mode (flows stopped, editor up), and why: the config
 * says so (`nodeRed.safeMode: true`), the crash-loop policy entered it (crash-loop.ts: kept
 * across agent restarts until left), or the card is full (the disk reserve out: held until it
 * is back). Decided at each start: the child takes its mode with its options. Entering or
 * leaving for the disk, and leaving a crash loop, are restarts the agent asks for: they are not
 * counted as starts toward a crash loop.
 */
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import { failure } from '../../core/kernel/errors.js';
import { CrashLoop, type CrashLoopPolicy, type ExitKind } from './crash-loop.js';
import type { SafeModeLeaver, SafeModeRecord } from './start-record.js';

export type SafeModeReason = 'config' | 'crash-loop' | 'disk';

export interface SafeModeOptions {
  /** `nodeRed.safeMode` in the config: every start in safe mode. */
  configured: boolean;
  dataDir: string;
  gatewayId: string;
  logger: Logger;
  emit(e: EventInput): void;
  wallMs?: (() => number) | undefined;
  crashLoop?: Partial<CrashLoopPolicy> | undefined;
}

export class SafeMode {
  private readonly loop: CrashLoop;
  private diskHold = false;
  private current = false;

  constructor(private readonly o: SafeModeOptions) {
    const { dataDir, gatewayId, logger, emit, wallMs } = o;
    // crash-loop.json lies beside the child's userDir, not in it: that is the flows' user's, who could plant a symlink where the agent writes.
    this.loop = new CrashLoop({ dataDir, gatewayId, logger, emit, wallMs }, o.crashLoop);
  }

  /** The mode of the start being made: a start the agent did not ask for counts toward a crash loop first. */
  forStart(asked: boolean): boolean {
    if (!asked) this.loop.noteStart();
    this.current = this.reasons.length > 0;
    return this.current;
  }

  /** Whether the child started last runs in safe mode. */
  get on(): boolean {
    return this.current;
  }

  /** In safe mode because of a crash loop (entered and not left). */
  get crashLoop(): boolean {
    return this.loop.active;
  }

  /** Why a start now would be in safe mode (none: with its flows). */
  get reasons(): SafeModeReason[] {
    const why: SafeModeReason[] = [];
    if (this.o.configured) why.push('config');
    if (this.loop.active) why.push('crash-loop');
    if (this.diskHold) why.push('disk');
    return why;
  }

  /** An exit the agent did not ask for (counted toward a crash loop). */
  noteCrash(kind: ExitKind, code: number | null, signal: NodeJS.Signals | null): void {
    this.loop.noteExit(kind, code, signal);
  }

  /** The disk reserve out (on) or back; true when that changed, and the child must restart in its new mode. */
  holdForDisk(on: boolean): boolean {
    if (this.diskHold === on) return false;
    this.diskHold = on;
    if (on) this.o.logger.warn(failure('DISK_FULL'), 'disk reserve out (card full): flows stopped');
    else this.o.logger.info('disk reserve back: flows start');
    return true;
  }

  /** Leaves a crash loop's safe mode (forgetting its counts); false when not in one. */
  leave(by: SafeModeLeaver): boolean {
    return this.loop.leave(by);
  }

  /** The crash loop's safe mode as entered, or null (see CrashLoop.entered). */
  get crashLoopEntered(): SafeModeRecord | null {
    return this.loop.entered;
  }

  /** Back into a crash loop's safe mode a push left (see CrashLoop.resume). */
  resume(saved: SafeModeRecord): void {
    this.loop.resume(saved);
  }
}
