/**
 * Under the flows' own unit (WatchdogSec=, NOTIFY_SOCKET set), WATCHDOG=1 goes to systemd each
 * time the child answers the agent's ping, at most every 10 s: a child whose event loop is
 * stuck answers none, and systemd kills and restarts it after WatchdogSec (the agent, another
 * user without capabilities, cannot). Node has no unix datagram sockets: systemd-notify sends it.
 * Without NOTIFY_SOCKET (spawned by the agent, which kills it itself) this does nothing.
 */
import { spawn } from 'node:child_process';

const EVERY_MS = 10_000;
let last = -Infinity;

export function unitAlive(): void {
  if (!process.env['NOTIFY_SOCKET'] || performance.now() - last < EVERY_MS) return;
  last = performance.now();
  const p = spawn('systemd-notify', ['WATCHDOG=1'], { stdio: 'ignore' });
  p.on('error', () => {});
}
