/**
 * One agent in a process of its own, for `nodered.rss`, `agent.rss.with_nodered` and
 * `nodered.events` (scripts/bench/nodered.ts forks it; a fresh process per run, so one run's
 * heap does not show in the other's RSS). With `with`, the config has a nodeRed section and
 * a counting flow is deployed; then 10k events are emitted and the process's RSS, the
 * child's RSS and what the flow counted are sent back.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { benchDir } from './fixtures.js';
import { COUNTING_FUNC, flowInto, nodeRedAdmin } from './nodered-admin.js';

export interface WorkerResult {
  withNodeRed: boolean;
  agentRssStartMb: number;
  agentRssAfterMb: number;
  childRssStartMb: number | null;
  childRssAfterMb: number | null;
  emitted: number;
  emitMs: number;
  /** What the counting flow saw, and the wall-clock span from the first emit to its last arrival. */
  counted: number | null;
  countedSpanMs: number | null;
  dropped: number | null;
  restarts: number | null;
}

export const EVENTS = 10_000;
const CHUNK = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const rssOfPid = (pid: number): number | null => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null; // exited
  }
};

async function run(withNodeRed: boolean): Promise<WorkerResult> {
  const dir = benchDir('nodered');
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'bench-nodered' },
    dataDir: dir,
    log: { level: 'error' },
    health: { intervalSec: 3600 },
    outbox: { maxBytes: '4GiB' },
    mqtt: { url: 'mqtt://127.0.0.1:1' }, // no uplink: capture -> durable (and -> the flows)
    ...(withNodeRed
      ? {
          nodeRed: {
            port: 0,
            users: [{ username: 'bench', password: 'bench-pass' }],
            credentialSecret: 'bench-credential-secret',
          },
        }
      : {}),
  });
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  await agent.start();
  const nr = () => agent.observe.nodeRed();
  let admin: Awaited<ReturnType<typeof nodeRedAdmin>> | null = null;
  if (withNodeRed) {
    const end = Date.now() + 30_000;
    while (nr()?.state !== 'running') {
      if (Date.now() > end) throw new Error('Node-RED did not start within 30 s');
      await sleep(50);
    }
    admin = await nodeRedAdmin(nr()!.url!, 'bench', 'bench-pass');
    await admin.deploy(flowInto(COUNTING_FUNC));
    // The deploy answers before the new flow runs: a probe event until the counter moves.
    for (let i = 0; i < 100 && (await admin.global('n')) === undefined; i++) {
      await agent.emit({ deviceId: 'probe', type: 'sensor.telemetry', priority: 'low', data: { probe: i } });
      await sleep(100);
    }
    if ((await admin.global('n')) === undefined) throw new Error('the counting flow never counted');
  } else {
    // The admin client's fetch (undici) lives in this process too: load it here as well, so
    // the difference is Node-RED's, not the HTTP client's.
    const server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${port}/`)).json();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  await sleep(1500); // settle after the start (and the deploy)
  const agentRssStartMb = process.memoryUsage.rss() / 2 ** 20;
  const childPid = nr()?.pid ?? null;
  const childRssStartMb = childPid === null ? null : rssOfPid(childPid);
  const countedBefore = admin ? Number(await admin.global('n')) : 0;

  const t0Wall = Date.now();
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i += CHUNK) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(EVENTS, i + CHUNK); j++)
      batch.push(
        agent.emit({
          deviceId: 'meter-1',
          type: 'sensor.telemetry',
          priority: 'normal',
          data: { i: j, tempC: 21.5, humidity: 48, battery: 3.31, rssi: -71 },
        }),
      );
    await Promise.all(batch);
  }
  const emitMs = performance.now() - t0;

  let counted: number | null = null;
  let countedSpanMs: number | null = null;
  if (admin) {
    // Until the flow has stopped counting (and the queue toward the child is empty).
    let last = -1;
    for (let stable = 0; stable < 5;) {
      await sleep(200);
      const n = Number(await admin.global('n'));
      stable = n === last && nr()!.queued === 0 ? stable + 1 : 0;
      last = n;
    }
    counted = last - countedBefore;
    countedSpanMs = Number(await admin.global('last')) - t0Wall;
  } else {
    await sleep(1000);
  }
  await sleep(500);
  const agentRssAfterMb = process.memoryUsage.rss() / 2 ** 20;
  const childRssAfterMb = childPid === null ? null : rssOfPid(childPid);
  const d = nr();
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    withNodeRed,
    agentRssStartMb,
    agentRssAfterMb,
    childRssStartMb,
    childRssAfterMb,
    emitted: EVENTS,
    emitMs,
    counted,
    countedSpanMs,
    dropped: d?.dropped ?? null,
    restarts: d?.restarts ?? null,
  };
}

if (process.send) {
  run(process.argv[2] === 'with').then(
    (r) => process.send!({ ok: true, result: r }, () => process.exit(0)),
    (err: unknown) =>
      process.send!({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () =>
        process.exit(1),
      ),
  );
} else if (process.argv[1]?.endsWith('nodered-worker.js')) {
  // By hand: `node dist/scripts/bench/nodered-worker.js with|without`.
  void run(process.argv[2] === 'with').then((r) => console.log(JSON.stringify(r)));
}
