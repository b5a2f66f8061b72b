/**
 * Power-cut test: the agent (a real process) is killed -9 at random moments while devices
 * produce and the backlog drains, 20+ times. Afterwards every event the outbox acknowledged
 * ("stored" lines, printed only after the commit) reaches the county subscriber, and any
 * duplicate carries the same id and content.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountySubscriber, type ReceivedEvent } from '../../scripts/county-subscriber.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const KILLS = Number(process.env.VG_KILLS ?? 20);
const tempDir = useTempDirs();
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker.dispose());

const gatewayConfig = (url: string, dataDir: string, producing: boolean) => ({
  version: 1,
  gateway: { id: 'gw-crash' },
  dataDir,
  log: { level: 'error' },
  clock: { synced: 'always' },
  health: { intervalSec: 1 },
  mqtt: {
    url,
    protocolVersion: 4,
    reconnect: { minMs: 100, maxMs: 1000, jitter: 0.2 },
    // Paced so a backlog builds up and every kill lands in the middle of a drain.
    replay: producing ? { messagesPerSec: 150, burst: 10 } : { messagesPerSec: 0, burst: 100 },
    batch: { maxEvents: 10 },
  },
  devices: producing
    ? [
        { id: 'door-1', driver: 'synthetic', rates: { doorPerSec: 40, buttonPerSec: 0, telemetryPerSec: 0 } },
        { id: 'panic-1', driver: 'synthetic', rates: { doorPerSec: 0, buttonPerSec: 20, telemetryPerSec: 0 } },
        { id: 'meter-1', driver: 'synthetic', rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: 2000 } },
      ]
    : [],
});

describe('kill -9 during ingest and drain', () => {
  it(`loses nothing acknowledged across ${KILLS} kills`, { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const sub = await new CountySubscriber({ url: broker.url, clientId: 'county-crash' }).start();
    const dupMismatch: string[] = [];
    sub.on('duplicate', (dup: ReceivedEvent) => {
      const first = sub.events.get(dup.id)!;
      if (JSON.stringify(first) !== JSON.stringify(dup)) dupMismatch.push(dup.id);
    });
    const stored = new Map<string, number>();
    let lastMaxSeq = 0;
    const file = AgentProcess.writeConfig(dir, gatewayConfig(broker.url, dataDir, true));
    for (let i = 0; i < KILLS; i++) {
      const agent = new AgentProcess(file).start();
      await agent.waitForStored(1, 15_000);
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 700));
      await agent.kill('SIGKILL');
      const seqs = [...agent.stored.values()];
      // seq strictly increases across restarts, even after a kill.
      expect(Math.min(...seqs)).toBeGreaterThan(lastMaxSeq);
      lastMaxSeq = Math.max(...seqs);
      for (const [id, seq] of agent.stored) stored.set(id, seq);
    }
    // A backlog was really left behind (counted on the acknowledged ids: the subscriber may also
    // hold events committed just before a kill, whose "stored" line never got printed).
    const undeliveredAfterKills = [...stored.keys()].filter((id) => !sub.events.has(id)).length;
    expect(undeliveredAfterKills).toBeGreaterThan(0);

    const drainFile = AgentProcess.writeConfig(dir, gatewayConfig(broker.url, dataDir, false));
    const drainer = new AgentProcess(drainFile).start();
    await sub.waitFor(() => [...stored.keys()].every((id) => sub.events.has(id)), 60_000).catch((err: Error) => {
      const missing = [...stored.keys()].filter((id) => !sub.events.has(id));
      throw new Error(`${err.message}: ${missing.length} of ${stored.size} acknowledged events never arrived`);
    });
    await drainer.kill('SIGTERM');
    expect(dupMismatch).toEqual([]);
    const types = new Set([...stored.keys()].map((id) => sub.events.get(id)!.type));
    expect([...types]).toEqual(expect.arrayContaining(['gateway.started', 'door.opened', 'door.closed', 'alarm.pressed', 'sensor.telemetry']));
    console.log(`kill -9 x${KILLS}: ${stored.size} events acknowledged, all delivered; ${sub.duplicates} duplicates (same ids)`);
    await sub.stop();
  });
});
