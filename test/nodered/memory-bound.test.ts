/**
 * The memory bound covers what V8's heap limit does not: a flow that keeps Buffers (outside the
 * heap, so --max-old-space-size never stops it) grows the child's RSS until the supervisor,
 * sampling /proc/<pid>/status at each heartbeat, kills it with reason 'memory'; it is restarted.
 */
import { describe, expect, it } from 'vitest';
import { nodeRedAdmin } from '../../scripts/bench/nodered-admin.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { EDITOR_USER, eventsOnlySupervisor, injectedFunction } from '../helpers/node-red.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

describe('the memory bound', () => {
  it('kills a child whose Buffers take its RSS past the bound, with reason memory, and restarts it', async () => {
    const { sup, emitted } = eventsOnlySupervisor(tempDir(), { memoryMb: 128, memoryBoundMb: 260 }, { pingMs: 250 });
    cleanup(() => sup.stop());
    sup.start();
    await waitUntil(() => sup.describe().state === 'running', 30_000, 'Node-RED ready');
    const pid = sup.pid;
    // Sampled by the agent at each heartbeat, not reported by the child.
    await waitUntil(() => (sup.describe().rssBytes ?? 0) > 50 * 1024 * 1024, 10_000, 'the RSS sampled');
    const admin = await nodeRedAdmin(sup.describe().url!, EDITOR_USER.username, EDITOR_USER.password);
    await admin.deploy(
      injectedFunction(
        // Filled, so the pages are really touched (RSS), and kept, so nothing is collected.
        "const b = context.get('b') || []; b.push(Buffer.alloc(32 * 1024 * 1024, 1)); context.set('b', b);",
        0.3,
        'm',
      ),
    );
    const stopped = () => emitted.find((e) => e.type === 'nodered.stopped');
    await waitUntil(() => stopped() !== undefined, 60_000, 'the child killed');
    expect(stopped()!.data).toMatchObject({ reason: 'memory', signal: 'SIGKILL' });
    await waitUntil(() => sup.describe().state === 'running' && sup.pid !== pid, 30_000, 'the restart');
  }, 120_000);
});
