/**
 * The judgement over one Node-RED child's life: is it started in time, does it answer its pings,
 * is it within its memory bound, and why did it go. Its RSS is sampled here, not taken from its
 * pong: a stuck child sends none, and Buffers live outside V8's heap. With launch: systemd there
 * is no pid (another user's process): the unit's MemoryMax bounds it and only the silence is
 * judged (the RSS then comes from its pong).
 */
import type { Logger } from 'pino';
import type { ChildStats } from '../../core/contracts/nodered-ipc.js';
import { failure } from '../../core/kernel/errors.js';
import type { ExitKind } from './crash-loop.js';
import { readRssBytes } from './memory-bound.js';
import type { NodeRedState } from './report.js';
import type { ChildTimers } from './timers.js';

/** Why the agent killed a child; 'requested' is a restart or stop it asked for, never a crash. */
export type KillReason = 'heartbeat' | 'start-timeout' | 'memory' | 'channel' | 'requested';

/** A child that ran this long was not crashing: its restart waits the shortest time again. */
const RAN_LONG_MS = 60_000;

export type HeartbeatVerdict =
  | { kill: null; rssBytes: number | null }
  | { kill: 'memory' | 'heartbeat'; rssBytes: number | null; why: Record<string, number>; msg: string };

export function judgeChild(
  pid: number | null,
  boundBytes: number,
  silentMs: number,
  pongTimeoutMs: number,
): HeartbeatVerdict {
  const rssBytes = pid ? readRssBytes(pid) : null;
  if (rssBytes !== null && rssBytes > boundBytes)
    return { kill: 'memory', rssBytes, why: { rssBytes, boundBytes }, msg: 'Node-RED over its memory bound: killed' };
  if (silentMs > pongTimeoutMs)
    return {
      kill: 'heartbeat',
      rssBytes,
      why: { silentMs: Math.round(silentMs) },
      msg: 'Node-RED stopped answering: killed',
    };
  return { kill: null, rssBytes };
}

export interface WatchOptions {
  boundBytes: number;
  pingMs: number;
  pongTimeoutMs: number;
  startTimeoutMs: number;
  monoMs: () => number;
  logger: Logger;
}

/** The supervisor's child, as the watch reaches it (whichever child is current). */
export interface WatchedChild {
  pid(): number | null;
  /** Where the supervisor is: the start limit holds while 'starting', the heartbeat while 'running'. */
  state(): NodeRedState;
  ping(n: number): void;
  kill(): void;
}

/** One child's life at a time (`spawned` begins the next); a kill's reason is the first one given. */
export class ChildWatch {
  private spawnedAt = 0;
  private lastPong = 0;
  private pingN = 0;
  private reason: KillReason | null = null;
  /** The child's RSS at the last heartbeat (or pong, without a pid); null until measured. */
  rssBytes: number | null = null;
  /** Events the child says it took, at its last pong; kept across children. */
  childEvents: number | null = null;

  constructor(
    private readonly o: WatchOptions,
    private readonly child: WatchedChild,
  ) {}

  /** A child is being started: nothing is known of it yet. */
  spawned(): void {
    this.spawnedAt = this.o.monoMs();
    this.reason = null;
    this.rssBytes = null;
  }

  /** It was: killed if it is not ready within the start limit (on its timers, which end with its life). */
  launched(timers: ChildTimers): void {
    timers.after(() => this.child.state() === 'starting' && this.kill('start-timeout'), this.o.startTimeoutMs);
  }

  /** The child said ready: its start took the returned ms, and the heartbeat begins. */
  ready(timers: ChildTimers): number {
    this.lastPong = this.o.monoMs();
    timers.every(() => this.beat(), this.o.pingMs);
    return Math.round(this.lastPong - this.spawnedAt);
  }

  pong(stats: ChildStats): void {
    this.lastPong = this.o.monoMs();
    if (this.child.pid() === null) this.rssBytes = stats.rssBytes; // systemd: the unit's MemoryMax bounds it
    this.childEvents = stats.events;
  }

  /** Kills the child; a reason given before (the first one) stays its reason. */
  kill(reason: KillReason): void {
    this.reason ??= reason;
    this.child.kill();
  }

  /** The agent asked the child to stop (it is given time to): its exit is no crash, whatever was said before. */
  stopAsked(): void {
    this.reason = 'requested';
  }

  /** The child went: 'requested' when the agent asked for it, else what the crash-loop policy counts. */
  get exitReason(): ExitKind | 'requested' {
    return this.reason ?? 'exit';
  }

  /** It ran long enough not to be a crash loop's quick death (its restart waits the shortest time). */
  get ranLong(): boolean {
    return this.o.monoMs() - this.spawnedAt > RAN_LONG_MS;
  }

  private beat(): void {
    if (this.child.state() !== 'running') return;
    const v = judgeChild(this.child.pid(), this.o.boundBytes, this.o.monoMs() - this.lastPong, this.o.pongTimeoutMs);
    if (v.rssBytes !== null) this.rssBytes = v.rssBytes;
    if (v.kill) {
      this.o.logger.error(failure('NODE_RED_FAILED', null, v.why), v.msg);
      return this.kill(v.kill);
    }
    this.pingN += 1;
    this.child.ping(this.pingN);
  }
}
