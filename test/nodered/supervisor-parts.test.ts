/**
 * The supervisor's parts through their own interfaces, each on what it decides alone:
 * - SafeMode: why a start runs with its flows stopped (the config, a crash loop, a full card),
 *   and that a start the agent asked for is not counted toward a crash loop (its record on a
 *   real disk, the wall clock the one edge faked);
 * - ChildWatch: the start limit, the heartbeat and the memory bound against a stand-in child
 *   with a real pid (this process: its RSS read from /proc as a child's would be), on real timers;
 * - Restarts: the backoff after crashes, at once when asked, what a crash says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../core/contracts/event.js';
import { ChildWatch, type WatchedChild } from '../../agent/nodered/heartbeat.js';
import type { NodeRedState } from '../../agent/nodered/report.js';
import { Restarts } from '../../agent/nodered/restarts.js';
import { SafeMode } from '../../agent/nodered/safe-mode.js';
import { ChildTimers } from '../../agent/nodered/timers.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

describe('SafeMode', () => {
  const safeMode = (dataDir: string, configured = false, emitted: EventInput[] = []) =>
    new SafeMode({
      configured,
      dataDir,
      gatewayId: 'gw',
      logger: quietLogger(),
      emit: (e) => void emitted.push(e),
      crashLoop: { starts: 2, startsWindowMs: 60_000 },
    });
  const recordedStarts = (dataDir: string) =>
    (JSON.parse(readFileSync(join(dataDir, 'node-red-crash-loop.json'), 'utf8')) as { starts: number[] }).starts;

  it('says why a start is in safe mode; a full card holds it until the room is back', () => {
    expect(safeMode(tempDir(), true).reasons).toEqual(['config']);
    const s = safeMode(tempDir());
    expect(s.forStart(false)).toBe(false);
    expect(s.holdForDisk(true)).toBe(true);
    expect(s.holdForDisk(true)).toBe(false); // no change, no restart
    expect(s.reasons).toEqual(['disk']);
    expect(s.on).toBe(false); // the running child's mode: it changes at its next start
    expect(s.forStart(true)).toBe(true);
    expect(s.holdForDisk(false)).toBe(true);
    expect(s.forStart(true)).toBe(false);
    expect(s.reasons).toEqual([]);
  });

  it('counts only the starts nobody asked for; three of those within a minute are a crash loop, until left', () => {
    const dataDir = tempDir();
    const emitted: EventInput[] = [];
    const s = safeMode(dataDir, false, emitted);
    s.forStart(false);
    for (let i = 0; i < 5; i++) s.forStart(true); // a card filling and emptying, new passwords
    expect(recordedStarts(dataDir)).toHaveLength(1);
    expect(s.crashLoop).toBe(false);
    s.forStart(false);
    expect(s.forStart(false)).toBe(true); // two starts before it within the minute
    expect(s.reasons).toEqual(['crash-loop']);
    expect(emitted.map((e) => e.type)).toEqual(['nodered.crash_loop']);
    expect(s.leave('cli')).toBe(true);
    expect(s.leave('cli')).toBe(false);
    expect(s.forStart(true)).toBe(false);
    expect(recordedStarts(dataDir)).toEqual([]); // leaving forgot, and its restart is not a start
  });
});

describe('ChildWatch', () => {
  /** A stand-in child: this process' pid, the supervisor's state as the test sets it, pings and kills recorded. */
  function watched(o: { pid?: number | null; boundBytes?: number; startTimeoutMs?: number }) {
    const seen = { state: 'starting' as NodeRedState, pings: [] as number[], kills: 0 };
    const child: WatchedChild = {
      pid: () => (o.pid === undefined ? process.pid : o.pid),
      state: () => seen.state,
      ping: (n) => void seen.pings.push(n),
      kill: () => void (seen.kills += 1),
    };
    const watch = new ChildWatch(
      {
        boundBytes: o.boundBytes ?? 2 ** 40,
        pingMs: 20,
        pongTimeoutMs: 150,
        startTimeoutMs: o.startTimeoutMs ?? 100,
        monoMs: () => performance.now(),
        logger: quietLogger(),
      },
      child,
    );
    const timers = new ChildTimers();
    cleanup(() => timers.clear());
    return { watch, timers, seen };
  }

  it('kills a child not ready within its start limit: the reason is start-timeout', async () => {
    const { watch, timers, seen } = watched({});
    watch.spawned();
    watch.launched(timers);
    await waitUntil(() => seen.kills === 1, 2000, 'the start limit');
    expect(watch.exitReason).toBe('start-timeout');
  });

  it('pings a ready child, samples its RSS, kills it when it stops answering; the first reason stays', async () => {
    const { watch, timers, seen } = watched({ pid: process.pid });
    watch.spawned();
    watch.launched(timers);
    seen.state = 'running';
    const startMs = watch.ready(timers);
    expect(startMs).toBeGreaterThanOrEqual(0);
    await waitUntil(() => seen.pings.length >= 3, 2000, 'pings');
    expect(seen.pings.slice(0, 3)).toEqual([1, 2, 3]);
    expect(watch.rssBytes).toBeGreaterThan(10 * 2 ** 20); // this process' RSS, read from /proc
    watch.pong({ events: 7, rssBytes: 1 });
    expect(watch.childEvents).toBe(7);
    expect(watch.rssBytes).not.toBe(1); // with a pid, the child's own word on its RSS is not taken
    // No more pongs: killed after pongTimeoutMs of silence.
    await waitUntil(() => seen.kills >= 1, 2000, 'the heartbeat kill');
    expect(watch.exitReason).toBe('heartbeat');
    watch.kill('channel');
    expect(watch.exitReason).toBe('heartbeat');
    watch.stopAsked(); // a stop the agent asked for is never a crash, whatever came before
    expect(watch.exitReason).toBe('requested');
    watch.spawned();
    expect(watch.exitReason).toBe('exit'); // a new life: nothing said yet
    expect(watch.rssBytes).toBeNull();
  });

  it('kills a child over its memory bound (reason memory); without a pid it takes the RSS from the pong', async () => {
    const over = watched({ boundBytes: 1024 });
    over.watch.spawned();
    over.seen.state = 'running';
    over.watch.ready(over.timers);
    await waitUntil(() => over.seen.kills === 1, 2000, 'the memory kill');
    expect(over.watch.exitReason).toBe('memory');

    const unit = watched({ pid: null, boundBytes: 1024 });
    unit.watch.spawned();
    unit.watch.pong({ events: 0, rssBytes: 5 * 2 ** 20 });
    expect(unit.watch.rssBytes).toBe(5 * 2 ** 20); // systemd's MemoryMax bounds it, not the watch
  });
});

describe('Restarts', () => {
  it('waits longer after each crash, starts at once when asked, and says each crash', () => {
    const emitted: EventInput[] = [];
    const r = new Restarts({
      restart: { minMs: 100, maxMs: 1000 },
      gatewayId: 'gw',
      logger: quietLogger(),
      emit: (e) => void emitted.push(e),
    });
    const waits = [1, 2, 3].map(() => r.crashed('exit', 1, null, false));
    expect(waits[0]).toBeLessThan(waits[2]!);
    r.asked();
    expect(r.crashed('heartbeat', null, 'SIGKILL', false)).toBeLessThanOrEqual(120); // the shortest again (with jitter)
    expect(r.crashed('exit', 1, null, false)).toBeGreaterThan(120);
    expect(r.crashed('exit', 1, null, true)).toBeLessThanOrEqual(120); // it had run a good while
    expect(r.count).toBe(7);
    expect(emitted).toHaveLength(6); // the asked restart says nothing
    expect(emitted[3]).toMatchObject({
      type: 'nodered.stopped',
      priority: 'high',
      data: { reason: 'heartbeat', code: null, signal: 'SIGKILL', restarts: 5 },
    });
  });
});
