/**
 * Talking to systemd (`Type=notify`, `NotifyAccess=all`): READY=1 once the agent really runs,
 * then WATCHDOG=1 every WatchdogSec/2, but only while the heartbeat holds. A ping is sent from a
 * timer, so an event loop that no longer turns sends none; the heartbeat says whether the
 * agent's own work still goes on (see Agent.heartbeat and the CLI). A missed ping costs nothing
 * by itself: systemd kills and restarts the service only after WatchdogSec without one.
 *
 * Node has no unix datagram sockets, so every message goes through `systemd-notify`, a child
 * process. Since systemd 246 it waits until the manager has processed the message (a barrier),
 * so the manager can still tell which unit the short-lived sender belongs to; without the
 * barrier (`--no-block`) a ping from a process that already exited may be dropped.
 * Without NOTIFY_SOCKET (not started by systemd) everything here is a no-op.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { failure } from '../core/kernel/errors.js';

export interface ServiceNotifierOptions {
  logger: Logger;
  /** null while the agent is healthy; otherwise why the watchdog ping is withheld. */
  heartbeat: () => string | null;
  env?: NodeJS.ProcessEnv;
  /** The program that sends the datagrams (tests may point it elsewhere). */
  command?: string;
}

/** A `systemd-notify` that hangs (a manager that never answers the barrier) is killed after this. */
const SEND_LIMIT_MS = 10_000;

export class ServiceNotifier {
  readonly enabled: boolean;
  /** How often the watchdog is pinged (half of WATCHDOG_USEC), or null without a watchdog. */
  readonly pingEveryMs: number | null;
  /** Pings sent and withheld, for tests and logs. */
  sent = 0;
  withheld = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private lastWithheld: string | null = null;
  private lastTickMs = 0;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly o: ServiceNotifierOptions) {
    this.env = o.env ?? process.env;
    this.enabled = Boolean(this.env.NOTIFY_SOCKET);
    const usec = Number(this.env.WATCHDOG_USEC);
    // WATCHDOG_PID names the process the watchdog is meant for; the agent may have been started by a wrapper.
    const forUs = !this.env.WATCHDOG_PID || Number(this.env.WATCHDOG_PID) === process.pid;
    this.pingEveryMs = this.enabled && forUs && Number.isFinite(usec) && usec > 0 ? Math.max(1, usec / 2000) : null;
  }

  /** The agent runs: READY=1, and the watchdog pings start. A second call (after a reload) says READY=1 again. */
  ready(status: string): void {
    this.send(['READY=1', `STATUS=${status}`]);
    if (this.pingEveryMs === null || this.timer) return;
    this.lastTickMs = performance.now();
    this.timer = setInterval(() => this.tick(), this.pingEveryMs);
  }

  /** A reload restarts the agent inside this process: systemd shows "reloading" until the next ready(). */
  reloading(): void {
    this.send(['RELOADING=1', 'STATUS=reloading the config']);
  }

  /** The agent is stopping for good: no more pings. */
  stopping(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.send(['STOPPING=1', 'STATUS=stopping']);
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTickMs - this.pingEveryMs!;
    this.lastTickMs = now;
    // The ping goes out now that the loop turns again; the stall is worth a line in the journal.
    if (late > this.pingEveryMs!)
      this.o.logger.warn(
        failure('EVENT_LOOP_BLOCKED', null, { lateMs: Math.round(late) }),
        'the event loop was blocked',
      );
    let reason: string | null;
    try {
      reason = this.o.heartbeat();
    } catch (err) {
      reason = `heartbeat check failed: ${(err as Error).message}`;
    }
    // One message at a time: a manager slow to answer the barrier must not pile up processes on a Pi.
    const busy = this.inFlight > 0;
    if (reason !== null) {
      this.withheld += 1;
      if (reason !== this.lastWithheld)
        this.o.logger.error(
          failure('WATCHDOG_WITHHELD', null, { reason }),
          'watchdog ping withheld: systemd restarts the agent if this lasts',
        );
      this.lastWithheld = reason;
      if (!busy) this.send([`STATUS=unhealthy: ${reason}`]);
      return;
    }
    if (busy) return;
    const recovered = this.lastWithheld !== null;
    if (recovered) this.o.logger.info('heartbeat holds again: watchdog pings resume');
    this.lastWithheld = null;
    this.sent += 1;
    this.send(recovered ? ['WATCHDOG=1', 'STATUS=running'] : ['WATCHDOG=1']);
  }

  /** Never throws and never crashes the agent: a missing or failing systemd-notify is logged. */
  private send(fields: string[]): void {
    if (!this.enabled) return;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(this.o.command ?? 'systemd-notify', fields, {
        env: this.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      this.o.logger.error(failure('NOTIFY_FAILED', err), 'systemd-notify could not be started');
      return;
    }
    this.inFlight += 1;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    child.stderr?.on('error', () => {}); // the pipe closes with the child; nothing to read then
    const limit = setTimeout(() => child.kill('SIGKILL'), SEND_LIMIT_MS);
    let done = false;
    const finish = (problem: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(limit);
      this.inFlight -= 1;
      if (problem)
        this.o.logger.warn(
          failure('NOTIFY_FAILED', problem, { fields: fields.join(' '), stderr: stderr.trim() }),
          'systemd-notify failed',
        );
    };
    child.on('error', (err) => finish(err.message));
    child.on('close', (code, signal) => finish(code === 0 ? null : `exit ${code ?? signal}`));
  }
}
