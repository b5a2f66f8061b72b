/**
 * The crash-loop policy on a fake wall clock (the one edge we own), with its record on a real
 * disk: which histories put the child in safe mode, that safe mode is kept across a new
 * policy object (an agent restart) until left, and that leaving really forgets.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../core/contracts/event.js';
import { CrashLoop } from '../../agent/nodered/crash-loop.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const MIN = 60_000;

function loop(dataDir: string, clock: { now: number }, emitted: EventInput[] = []) {
  return new CrashLoop({
    dataDir,
    gatewayId: 'gw',
    logger: quietLogger(),
    emit: (e) => void emitted.push(e),
    wallMs: () => clock.now,
  });
}

describe('the crash-loop policy', () => {
  it('a heartbeat kill every 25 s: safe mode at the third; two kills 10 minutes apart never', () => {
    const clock = { now: 1_000_000 };
    const emitted: EventInput[] = [];
    const l = loop(tempDir(), clock, emitted);
    for (let i = 0; i < 3; i++) {
      expect(l.active).toBe(false);
      l.noteStart();
      clock.now += 25_000;
      l.noteExit('heartbeat', null, 'SIGKILL');
    }
    expect(l.active).toBe(true);
    expect(emitted).toEqual([
      expect.objectContaining({
        type: 'nodered.crash_loop',
        data: { reason: 'heartbeat-kills', count: 3, windowSec: 600, lastCode: null, lastSignal: 'SIGKILL' },
      }),
    ]);

    const calm = loop(tempDir(), clock);
    for (let i = 0; i < 6; i++) {
      calm.noteStart();
      clock.now += 5 * MIN + 1000; // a kill every 5 minutes: never 3 within 10
      calm.noteExit('heartbeat', null, 'SIGKILL');
    }
    expect(calm.active).toBe(false);
  });

  it('5 abnormal exits within 10 minutes (a crash every 2 minutes) trip; 4 do not', () => {
    const clock = { now: 5_000_000 };
    const emitted: EventInput[] = [];
    const l = loop(tempDir(), clock, emitted);
    for (let i = 0; i < 4; i++) {
      l.noteStart();
      clock.now += 2 * MIN;
      l.noteExit('exit', 134, null);
    }
    expect(l.active).toBe(false);
    l.noteStart();
    clock.now += MIN;
    l.noteExit('exit', 134, null);
    expect(l.active).toBe(true);
    expect(emitted[0]).toMatchObject({ data: { reason: 'exits', count: 5, lastCode: 134 } });
  });

  it('is kept across agent restarts until left; leaving forgets every count; a corrupt record counts as none', () => {
    const dir = tempDir();
    const clock = { now: 9_000_000 };
    const first = loop(dir, clock);
    for (let i = 0; i < 3; i++) first.noteExit('heartbeat', null, 'SIGKILL');
    expect(first.active).toBe(true);
    clock.now += 24 * 60 * MIN; // a day later, a new agent
    const second = loop(dir, clock);
    expect(second.active).toBe(true);
    second.noteStart();
    expect(second.active).toBe(true);

    const emitted: EventInput[] = [];
    const third = loop(dir, clock, emitted);
    expect(third.leave('cli')).toBe(true);
    expect(emitted).toEqual([expect.objectContaining({ type: 'nodered.safe_mode_left', data: { by: 'cli' } })]);
    expect(JSON.parse(readFileSync(join(dir, 'node-red-crash-loop.json'), 'utf8'))).toEqual({
      starts: [],
      exits: [],
      heartbeatKills: [],
      safeMode: null,
    });
    // Really left: one more kill right away is one, not four.
    third.noteExit('heartbeat', null, 'SIGKILL');
    expect(third.active).toBe(false);
    expect(third.leave('command')).toBe(false); // nothing to leave: no event
    expect(emitted).toHaveLength(1);

    const bad = tempDir();
    mkdirSync(join(bad, 'node-red'), { recursive: true });
    writeFileSync(join(bad, 'node-red-crash-loop.json'), '{"safeMode": {"since": "yesterday"}, "starts": 7');
    expect(loop(bad, clock).active).toBe(false);
  });
});
