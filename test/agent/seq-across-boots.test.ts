/**
 * Seq across boots, as the county sees it: each boot reserves a block of seqs, so a restart
 * jumps. `gateway.started` says both ends of the jump (the highest seq stored before this boot,
 * and this boot's first), so a county tells a reserved gap from a loss, even when every event
 * of the boot before was delivered and deleted.
 */
import { describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/agent-config.js';
import { startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('seq across boots', () => {
  it('gateway.started names the last seq stored before it; the gap to firstSeq was reserved, not lost', async () => {
    const county = await startCounty(brokerRef.current.url, cleanup, 'county-seq-boots');
    const dir = tempDir();
    const config = testConfig(brokerRef.current.url, dir, { gateway: { id: 'gw-seq' } });
    const boot = async () => {
      const rig = new AgentRig(config, dir);
      await rig.agent.start();
      return rig;
    };
    const first = await boot();
    const started1 = await first.waitFor((e) => e.type === 'gateway.started');
    expect(started1.data).toMatchObject({ previousLastSeq: null, firstSeq: started1.seq });
    for (let i = 0; i < 5; i++)
      await first.agent.emit({
        deviceId: 'door-1',
        type: 'door.opened',
        priority: 'normal',
        data: { input: 'di1', active: true },
      });
    const lastOfFirst = Math.max(...first.events.map((e) => e.seq));
    // Every event of the first boot reaches the county and leaves the outbox.
    await waitUntil(() => county.events.size >= first.events.length, 10_000, 'the first boot delivered');
    await waitUntil(() => first.agent.observe.backlog().total.count === 0, 10_000, 'the outbox empty');
    await first.agent.stop();

    const second = await boot();
    cleanup(() => second.agent.stop());
    const started2 = await second.waitFor((e) => e.type === 'gateway.started');
    expect(started2.data).toMatchObject({ previousLastSeq: lastOfFirst });
    const { firstSeq } = started2.data as { firstSeq: number };
    expect(firstSeq).toBeGreaterThan(lastOfFirst);
    await waitUntil(
      () => [...county.events.values()].some((e) => e.id === started2.id),
      10_000,
      "the second boot's start at the county",
    );
  });
});
