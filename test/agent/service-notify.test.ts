/**
 * The systemd notifier with the real `systemd-notify` (Debian's systemd package) sending to a
 * real unix datagram socket that plays the manager (test/helpers/notify-socket.ts), then the
 * real CLI agent under NOTIFY_SOCKET: ready without a network, pinging, stopping.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ServiceNotifier } from '../../agent/service-notify.js';
import { AgentChild } from '../helpers/agent-child.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { NotifySocket, SYSTEMD_NOTIFY } from '../helpers/notify-socket.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

function capturedLogger() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { logger, lines };
}

async function socketIn(dir: string): Promise<NotifySocket> {
  const sock = await new NotifySocket(dir).start();
  cleanup(() => sock.stop());
  return sock;
}

/** A notifier sending through the real systemd-notify to `sock`, cleaned up after the test. */
function notifierFor(sock: NotifySocket, heartbeat: () => string | null, watchdogUsec: number) {
  const { logger, lines } = capturedLogger();
  const notifier = new ServiceNotifier({
    logger,
    heartbeat,
    command: SYSTEMD_NOTIFY,
    env: { PATH: process.env.PATH, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: String(watchdogUsec) },
  });
  cleanup(() => notifier.stopping());
  return { n: notifier, lines };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('service notifier', () => {
  it('does nothing without NOTIFY_SOCKET (not started by systemd)', async () => {
    const { logger, lines } = capturedLogger();
    const n = new ServiceNotifier({ logger, heartbeat: () => null, env: { WATCHDOG_USEC: '200000' } });
    expect(n.enabled).toBe(false);
    expect(n.pingEveryMs).toBeNull();
    n.ready('running');
    await pause(300);
    n.stopping();
    expect(n.sent).toBe(0);
    expect(lines).toEqual([]);
  });

  it('says READY=1, pings the watchdog every WatchdogSec/2, withholds pings while the heartbeat fails', async () => {
    const sock = await socketIn(tempDir());
    let problem: string | null = null;
    const { n, lines } = notifierFor(sock, () => problem, 400_000);
    expect(n.pingEveryMs).toBe(200);
    n.ready('running, backlog 0');
    await waitUntil(() => sock.count('WATCHDOG=1') >= 3, 5000, 'three pings');
    expect(sock.messages[0]!.text).toBe('READY=1 STATUS=running, backlog 0');

    problem = 'the outbox is stuck';
    await waitUntil(() => sock.count('STATUS=unhealthy') >= 1, 5000, 'the unhealthy status');
    await pause(300); // a ping already in flight may still land
    const pingsWhenFailed = sock.count('WATCHDOG=1');
    await pause(1200); // six ping intervals
    expect(sock.count('WATCHDOG=1')).toBe(pingsWhenFailed);
    expect(sock.messages.find((m) => m.text.startsWith('STATUS=unhealthy'))!.text).toBe(
      'STATUS=unhealthy: the outbox is stuck',
    );
    expect(lines.filter((l) => l.msg.startsWith('watchdog ping withheld'))).toHaveLength(1); // once, not per tick

    problem = null;
    await waitUntil(() => sock.count('WATCHDOG=1') > pingsWhenFailed + 1, 5000, 'pings to resume');
    expect(sock.messages.some((m) => m.text === 'WATCHDOG=1 STATUS=running')).toBe(true);
    n.stopping();
    await waitUntil(() => sock.count('STOPPING=1') === 1, 5000, 'STOPPING=1');
  });

  it('sends no ping while the event loop is blocked', async () => {
    const sock = await socketIn(tempDir());
    const { n, lines } = notifierFor(sock, () => null, 200_000);
    n.ready('running');
    await waitUntil(() => sock.count('WATCHDOG=1') >= 2, 5000, 'two pings');
    await pause(200); // let a ping in flight land
    const from = Date.now();
    while (Date.now() - from < 1500); // a stuck loop: what the watchdog is for
    const to = Date.now();
    await waitUntil(() => sock.messages.some((m) => m.atMs > to), 5000, 'a ping after the block');
    expect(sock.messages.filter((m) => m.atMs > from + 100 && m.atMs < to)).toEqual([]);
    expect(lines.some((l) => l.msg === 'the event loop was blocked')).toBe(true);
  });

  it('never throws when systemd-notify is missing: the failure is logged', async () => {
    const dir = tempDir();
    const { logger, lines } = capturedLogger();
    const n = new ServiceNotifier({
      logger,
      heartbeat: () => null,
      command: `${dir}/no-such-systemd-notify`,
      env: { NOTIFY_SOCKET: `${dir}/notify.sock`, WATCHDOG_USEC: '200000' },
    });
    cleanup(() => n.stopping());
    n.ready('running');
    await waitUntil(() => lines.some((l) => l.msg === 'systemd-notify failed'), 5000, 'the failure logged');
    await pause(300);
    expect(n.sent).toBeGreaterThan(0); // it went on ticking
    expect(lines.find((l) => l.msg === 'systemd-notify failed')!.err).toMatch(/ENOENT/);
  });
});

describe('the CLI agent under systemd', () => {
  it('is ready without a network, pings while it runs, and says STOPPING=1 on SIGTERM', async () => {
    const dir = tempDir();
    const sock = await socketIn(dir);
    const file = AgentChild.writeConfig(dir, {
      version: 1,
      gateway: { id: 'gw-notify' },
      dataDir: `${dir}/data`,
      log: { level: 'warn' },
      clock: { synced: 'always' },
      mqtt: { url: 'mqtt://127.0.0.1:1', protocolVersion: 4 }, // nothing listens: no network at start
    });
    const agent = new AgentChild(file, { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '600000' }).start();
    cleanup(() => agent.kill());
    await waitUntil(() => sock.count('READY=1') === 1, 15_000, `READY=1; agent output:\n${agent.output}`);
    expect(sock.messages[0]!.text).toMatch(/^READY=1 STATUS=running, backlog \d+$/);
    await waitUntil(() => sock.count('WATCHDOG=1') >= 3, 10_000, 'three pings');
    expect(sock.count('STATUS=unhealthy')).toBe(0);
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(sock.messages.at(-1)!.text).toBe('STOPPING=1 STATUS=stopping');
  });
});
