/**
 * Restarts the agent asks for are not crashes: a card that fills and empties (the outbox's disk
 * reserve let go and written again, holdForDisk) restarts the real Node-RED child each time, and
 * so does leaving safe mode; none of those starts may count toward the crash-loop policy's
 * "starts within a minute", or a card filling a few times puts the flows in safe mode.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../core/contracts/event.js';
import type { NodeRedSupervisor } from '../../agent/nodered/supervisor.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { editorSupervisor } from '../helpers/node-red.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const LOOP_FILE = 'node-red-crash-loop.json';

/** At most 2 starts a minute before safe mode: the third start within a minute trips it. */
function rig(dataDir: string) {
  const emitted: EventInput[] = [];
  const sup = editorSupervisor(dataDir, { emitted, over: { crashLoop: { starts: 2, startsWindowMs: 60_000 } } });
  cleanup(() => sup.stop());
  return { sup, emitted };
}

/** Waits for the start after `before` starts, and says whether it runs in safe mode. */
async function nextStart(sup: NodeRedSupervisor, emitted: EventInput[], before: number): Promise<unknown> {
  const starts = () => emitted.filter((e) => e.type === 'nodered.started');
  await waitUntil(() => starts().length > before && sup.describe().state === 'running', 30_000, `start ${before + 1}`);
  return (starts()[before]!.data as { safeMode?: boolean }).safeMode;
}

const recordedStarts = (dataDir: string) =>
  (JSON.parse(readFileSync(join(dataDir, LOOP_FILE), 'utf8')) as { starts: number[] }).starts.length;

describe('restarts the agent asks for', () => {
  it('a card filling and emptying twice restarts the flows four times and never puts them in safe mode', async () => {
    const dataDir = tempDir();
    const { sup, emitted } = rig(dataDir);
    sup.start();
    expect(await nextStart(sup, emitted, 0)).toBe(false);
    for (let round = 0; round < 2; round++) {
      sup.holdForDisk(true);
      expect(await nextStart(sup, emitted, 1 + 2 * round)).toBe(true); // the editor up, the flows stopped
      sup.holdForDisk(false);
      expect(await nextStart(sup, emitted, 2 + 2 * round)).toBe(false);
    }
    expect(sup.describe()).toMatchObject({ safeMode: false, crashLoop: false, state: 'running', restarts: 4 });
    expect(emitted.map((e) => e.type).filter((t) => t !== 'nodered.started')).toEqual([]);
    expect(recordedStarts(dataDir)).toBe(1); // the agent's own start only
  }, 120_000);

  it('leaving safe mode restarts the child without recording a start', async () => {
    const dataDir = tempDir();
    mkdirSync(dataDir, { recursive: true });
    const since = Date.now() - 60_000;
    writeFileSync(join(dataDir, LOOP_FILE), JSON.stringify({ safeMode: { since, reason: 'exits', count: 5 } }));
    const { sup, emitted } = rig(dataDir);
    sup.start();
    expect(await nextStart(sup, emitted, 0)).toBe(true);
    expect(sup.leaveSafeMode('command')).toBe(true);
    expect(await nextStart(sup, emitted, 1)).toBe(false);
    expect(recordedStarts(dataDir)).toBe(0); // leaving forgot the counts, and its restart is not one
    expect(sup.describe()).toMatchObject({ safeMode: false, crashLoop: false });
  }, 60_000);
});
