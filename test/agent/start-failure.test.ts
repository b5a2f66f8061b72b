/**
 * Making an Agent opens nothing; a start that fails part way lets go of all it took (the data
 * folder's lock, the outbox database, timers, sockets), so the next agent on the same folder
 * starts, in this process or another, without waiting for this one to be collected.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { testConfig } from '../helpers/agent-config.js';
import { useBroker } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();

/** The files under `dir` this process holds open (the lock, the database, its journal). */
function openFilesUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) open.push(target);
    } catch {
      // the fd readdir itself used, closed by now
    }
  }
  return open;
}

/** Timers and sockets alive in this process, by kind. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo())
    if (/Timeout|Immediate|TCP|Pipe/.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** The kinds of which there are more now than `before` (others' handles may have closed meanwhile). */
function grown(before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(handles()).filter(([kind, n]) => n > (before[kind] ?? 0)));
}

/** A config whose Modbus device the agent cannot build (its profile is not among those given). */
function modbusConfig(dir: string) {
  return testConfig(brokerRef.current.url, dir, {
    buses: [{ id: 'tcp', type: 'modbus-tcp', host: '127.0.0.1', port: 1, timeoutMs: 300 }],
    devices: [{ id: 'panel', driver: 'modbus', bus: 'tcp', unitId: 1, profile: 'waveshare-modbus-rtu-io-8ch' }],
  });
}

describe('Agent start and failure', () => {
  it('opens nothing when made: no lock, no database, not even the data folder', () => {
    const dir = tempDir();
    const agent = new Agent({
      config: modbusConfig(`${dir}/data`),
      configHash: 't',
      baseDir: dir,
      logger: quietLogger(),
    });
    expect(readdirSync(dir)).toEqual([]);
    expect(openFilesUnder(dir)).toEqual([]);
    expect(agent.heartbeat()).toBe('the agent has not started');
  });

  it('lets go of the lock, the database, timers and sockets when a late step of start fails', async () => {
    const dir = tempDir();
    const before = handles();
    const failing = new Agent({
      config: modbusConfig(dir),
      configHash: 't',
      baseDir: dir,
      logger: quietLogger(),
      profiles: new Map(), // the drivers cannot be made: after the lock, the outbox and the boot events
    });
    let stored = 0;
    failing.observe.onStored((events) => (stored += events.length));
    await expect(failing.start()).rejects.toThrow(/profile/);
    expect(stored).toBeGreaterThan(0); // it got as far as committing its boot events
    expect(openFilesUnder(dir)).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(grown(before)).toEqual({});
    await failing.stop(); // what the CLI does after a failed start: nothing left to do, and no throw

    const next = new Agent({
      config: testConfig(brokerRef.current.url, dir),
      configHash: 't',
      baseDir: dir,
      logger: quietLogger(),
    });
    const seqs: number[] = [];
    next.observe.onStored((events) => seqs.push(...events.map((e) => e.seq)));
    await next.start();
    await next.jobs.flushOutbox();
    expect(Math.min(...seqs)).toBeGreaterThan(stored); // after the failed start's boot events, kept in the outbox
    await next.stop();
    expect(openFilesUnder(dir)).toEqual([]);
  });
});
