/**
 * When the Node-RED child goes into safe mode (flows stopped, editor up), and when it leaves.
 *
 * It enters safe mode, at the next start, when any of these is reached:
 * - 3 heartbeat kills within 10 minutes. A flow that spins after an `await` is killed by the
 *   heartbeat 20-30 s after each start (15 s without a pong, plus the start and the backoff),
 *   so three kills come within about 2 minutes; a healthy child never misses 15 s of pongs, so
 *   one kill may be a stall (swap, a slow SD card) and two a coincidence, three is the flow.
 * - 5 abnormal exits within 10 minutes: every exit the agent did not ask for (a crash, an
 *   out-of-memory abort, a flow calling process.exit, a heartbeat or start-time kill). A flow
 *   that brings the child down every two minutes gets there too, not only one that does it
 *   five times a minute.
 * - 5 starts within a minute, counted across agent restarts: a flow that takes the whole agent
 *   down with it never lets the agent see an exit.
 * Restarts the agent asks for (the disk reserve let go or back, leaving safe mode, new editor
 * passwords) are neither exits nor starts here: a card that fills and empties a few times is no
 * crash loop.
 * It stays in safe mode, across agent restarts, until it is left explicitly: the county's
 * `leave-safe-mode` command or `village-gateway editor safe-mode off` on the gateway. Leaving
 * clears every count, so the child does not fall back at once on old history; if the flow is
 * still broken the same limits bring it back. `nodeRed.safeMode: true` in the config is
 * separate: the child always starts in safe mode then.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventInput } from '../../core/contracts/event.js';
import {
  StartRecord,
  type CrashLoopReason,
  type CrashRecord,
  type SafeModeLeaver,
  type SafeModeRecord,
} from './start-record.js';
import { failure } from '../../core/kernel/errors.js';

export interface CrashLoopPolicy {
  heartbeatKills: number;
  exits: number;
  /** The window for heartbeat kills and exits. */
  windowMs: number;
  starts: number;
  startsWindowMs: number;
}

export const DEFAULT_CRASH_LOOP: CrashLoopPolicy = {
  heartbeatKills: 3,
  exits: 5,
  windowMs: 10 * 60_000,
  starts: 5,
  startsWindowMs: 60_000,
};

export interface CrashLoopTrip {
  reason: CrashLoopReason;
  count: number;
  windowSec: number;
}

export type ExitKind = 'heartbeat' | 'start-timeout' | 'memory' | 'channel' | 'exit';

export interface CrashLoopPorts {
  dataDir: string;
  gatewayId: string;
  logger: Logger;
  emit(e: EventInput): void;
  wallMs?: () => number;
}

/** The policy, its record on disk, and what it says (log lines and events). */
export class CrashLoop {
  private readonly record: StartRecord;
  private readonly p: CrashLoopPolicy;
  private rec: CrashRecord;

  constructor(
    private readonly ports: CrashLoopPorts,
    policy: Partial<CrashLoopPolicy> = {},
  ) {
    const { dataDir, logger, wallMs } = ports;
    this.p = { ...DEFAULT_CRASH_LOOP, ...policy };
    this.record = new StartRecord(join(dataDir, 'node-red-crash-loop.json'), logger, wallMs);
    this.rec = this.record.read(this.keepMs);
  }

  private get keepMs(): number {
    return Math.max(this.p.windowMs, this.p.startsWindowMs);
  }

  /** In safe mode because of a crash loop (entered and not left). */
  get active(): boolean {
    return this.rec.safeMode !== null;
  }

  /** A start now; enters safe mode (for this start) when the starts before it reach the limit. */
  noteStart(): void {
    this.rec = this.record.read(this.keepMs);
    const now = this.record.now();
    const before = this.rec.starts.filter((t) => now - t < this.p.startsWindowMs).length;
    this.rec.starts.push(now);
    const trip = before >= this.p.starts ? this.trip('starts', before, this.p.startsWindowMs) : null;
    this.record.write(this.rec);
    if (trip) this.report(trip, null, null);
  }

  /** An exit the agent did not ask for; enters safe mode (from the next start) when it reaches a limit. */
  noteExit(kind: ExitKind, code: number | null, signal: NodeJS.Signals | null): void {
    this.rec = this.record.read(this.keepMs);
    const now = this.record.now();
    const within = (ts: number[]) => ts.filter((t) => now - t < this.p.windowMs).length;
    this.rec.exits.push(now);
    if (kind === 'heartbeat') this.rec.heartbeatKills.push(now);
    const kills = within(this.rec.heartbeatKills);
    const exits = within(this.rec.exits);
    const trip =
      kind === 'heartbeat' && kills >= this.p.heartbeatKills
        ? this.trip('heartbeat-kills', kills, this.p.windowMs)
        : exits >= this.p.exits
          ? this.trip('exits', exits, this.p.windowMs)
          : null;
    this.record.write(this.rec);
    if (trip) this.report(trip, code, signal);
  }

  /** Leaves safe mode and forgets every count; false (and nothing changed) when it was not in safe mode. */
  leave(by: SafeModeLeaver): boolean {
    this.rec = this.record.read(this.keepMs);
    if (this.rec.safeMode === null) return false;
    this.rec = { starts: [], exits: [], heartbeatKills: [], safeMode: null };
    this.record.write(this.rec);
    this.ports.logger.info({ by }, 'Node-RED leaves safe mode: restarting it with its flows');
    const { gatewayId: deviceId } = this.ports;
    this.ports.emit({ deviceId, type: 'nodered.safe_mode_left', priority: 'normal', data: { by } });
    return true;
  }

  /** The crash loop's safe mode as entered (null: none), kept by a push that leaves it, to come back to. */
  get entered(): SafeModeRecord | null {
    return this.record.read(this.keepMs).safeMode;
  }

  /** Back into the safe mode a push left, as it was (no crash_loop event: the push's rollback says why). */
  resume(saved: SafeModeRecord): void {
    this.rec = this.record.read(this.keepMs);
    this.rec.safeMode = saved;
    this.record.write(this.rec);
    this.ports.logger.warn(
      failure('NODE_RED_FAILED', null, saved),
      'Node-RED back in safe mode: the flows pushed to leave it were rolled back',
    );
  }

  private report(trip: CrashLoopTrip, code: number | null, signal: NodeJS.Signals | null): void {
    this.ports.logger.error(
      failure('NODE_RED_FAILED', null, trip),
      'Node-RED is in a crash loop: it runs in safe mode (flows stopped) until a technician leaves it',
    );
    const { gatewayId: deviceId } = this.ports;
    const data = { ...trip, lastCode: code, lastSignal: signal };
    this.ports.emit({ deviceId, type: 'nodered.crash_loop', priority: 'high', data });
  }

  private trip(reason: CrashLoopReason, count: number, windowMs: number): CrashLoopTrip | null {
    if (this.rec.safeMode) return null;
    this.rec.safeMode = { since: this.record.now(), reason, count };
    return { reason, count, windowSec: Math.round(windowMs / 1000) };
  }
}
