/**
 * Node-RED's cost and its isolation from the alarm path, each against a baseline measured in
 * the same run:
 * - nodered.rss: the child's RSS after 10k events delivered into a counting flow (at start in the note);
 * - agent.rss.with_nodered: the agent's own RSS (its process, not the child) with Node-RED
 *   running and fed 10k events, against the same agent without a nodeRed section fed the same
 *   10k (each in a fresh process: scripts/bench/nodered-worker.ts);
 * - nodered.events: events/s counted by a flow (`village in` -> a function node counting in
 *   global context, read through the admin API), against the agent's emit rate in that run;
 * - alarm.siren.latency.p99.busyflow: a Modbus TCP press -> the siren coil write at the
 *   simulator, with a deployed function node that spins forever after an `await` (the child's
 *   event loop is stuck, then killed by the heartbeat and restarted with the same flow), against
 *   the same presses without Node-RED.
 */
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { percentile } from '../stats.js';
import { cliNodeFlags } from './cli-flags.js';
import { benchDir } from './fixtures.js';
import { POLL_MS, SirenPanel } from './siren-panel.js';
import { BUSY_FUNC, flowInto, nodeRedAdmin } from './nodered-admin.js';
import { EVENTS, type WorkerResult } from './nodered-worker.js';
import { result, type BenchResult } from './result.js';

const WORKER = fileURLToPath(new URL('./nodered-worker.js', import.meta.url));
const PRESSES = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function worker(mode: 'with' | 'without'): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    // Under the installed CLI's V8 flags: the agent's RSS as it runs on a gateway, not with V8's default heap.
    const child = fork(WORKER, [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: cliNodeFlags() });
    let settled = false;
    child.on('message', (m: { ok: boolean; result?: WorkerResult; error?: string }) => {
      settled = true;
      if (m.ok) resolve(m.result!);
      else reject(new Error(`the nodered bench worker (${mode}) failed: ${m.error}`));
    });
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`the nodered bench worker (${mode}) exited with ${code}`));
    });
  });
}

interface SirenRun {
  siren: number[];
  restarts: number | null;
  dropped: number | null;
}

async function sirenPresses(busyFlow: boolean): Promise<SirenRun> {
  const panel = await new SirenPanel().start();
  const dir = benchDir('nodered-siren');
  const config = gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: `bench-nr-siren-${busyFlow ? 'busy' : 'none'}` },
    dataDir: dir,
    health: { intervalSec: 3600 },
    mqtt: { url: 'mqtt://127.0.0.1:1' }, // no uplink: the local safety loop only
    ...panel.config(),
    ...(busyFlow
      ? {
          nodeRed: {
            port: 0,
            users: [{ username: 'bench', password: 'bench-pass' }],
            credentialSecret: 'bench-credential-secret',
          },
        }
      : {}),
  });
  // Shipped heartbeat and restart timings.
  const agent = new Agent({ config, configHash: 'bench', baseDir: dir, logger: pino({ level: 'silent' }) });
  await agent.start();
  if (busyFlow) {
    const end = Date.now() + 30_000;
    while (agent.observe.nodeRed()?.state !== 'running') {
      if (Date.now() > end) throw new Error('Node-RED did not start within 30 s');
      await sleep(50);
    }
    const admin = await nodeRedAdmin(agent.observe.nodeRed()!.url!, 'bench', 'bench-pass');
    await admin.deploy(flowInto(BUSY_FUNC));
    await sleep(500); // the new flow running
    // Any event sends the flow into its loop; the presses' own events would too.
    await agent.emit({ deviceId: 'probe', type: 'sensor.telemetry', priority: 'low', data: { probe: 1 } });
  }
  await sleep(500);
  const siren: number[] = [];
  for (let i = 0; i < PRESSES; i++) {
    await sleep(40 + Math.random() * 60);
    siren.push(await panel.pressForSiren());
    panel.release();
    await sleep(POLL_MS * 3);
  }
  const d = agent.observe.nodeRed();
  await agent.stop();
  await panel.close();
  rmSync(dir, { recursive: true, force: true });
  return { siren, restarts: d?.restarts ?? null, dropped: d?.dropped ?? null };
}

export async function noderedBenchmarks(): Promise<BenchResult[]> {
  const without = await worker('without');
  const withNr = await worker('with');
  const idle = await sirenPresses(false);
  const busy = await sirenPresses(true);
  const mb = (v: number | null) => (v === null ? '?' : v.toFixed(1));
  const emitRate = without.emitted / (without.emitMs / 1000);
  const withEmitRate = withNr.emitted / (withNr.emitMs / 1000);
  const delivered = (withNr.counted ?? 0) / ((withNr.countedSpanMs ?? Infinity) / 1000);
  const p99 = (v: number[]) => percentile(v, 99)!;
  const p50 = (v: number[]) => percentile(v, 50)!.toFixed(1);
  return [
    result('nodered.rss', withNr.childRssAfterMb ?? 0, 'MB', undefined, {
      note: `the Node-RED child's RSS (/proc) after ${EVENTS} events into a counting flow; ${mb(withNr.childRssStartMb)} MB after start and deploy`,
    }),
    result('agent.rss.without_nodered', without.agentRssAfterMb, 'MB', undefined, {
      note: `the agent's process RSS, no nodeRed section, after emitting ${EVENTS} events; ${mb(without.agentRssStartMb)} MB after start`,
    }),
    result(
      'agent.rss.with_nodered',
      withNr.agentRssAfterMb,
      'MB',
      { name: 'agent.rss.without_nodered', value: without.agentRssAfterMb },
      {
        goal: 'increase <= 5 MB',
        note: `the agent's own process (not the child) with Node-RED running and fed ${EVENTS} events (+${(withNr.agentRssAfterMb - without.agentRssAfterMb).toFixed(1)} MB); ${mb(withNr.agentRssStartMb)} MB after start`,
      },
    ),
    result('agent.emit.rate', emitRate, 'events/s', undefined, {
      note: `${EVENTS} events emitted (captured -> durable), ${200} at a time, without Node-RED`,
    }),
    result(
      'nodered.events',
      delivered,
      'events/s',
      { name: 'agent.emit.rate', value: emitRate },
      {
        note: `counted by a flow (village in -> function node, global context read via the admin API): ${withNr.counted}/${EVENTS} arrived, ${withNr.dropped} dropped by the bounded queue; the agent emitted at ${withEmitRate.toFixed(0)} events/s with Node-RED attached`,
      },
    ),
    result('alarm.siren.latency.p99', p99(idle.siren), 'ms', undefined, {
      note: `Modbus TCP press -> siren coil write at the simulator, no Node-RED; poll ${POLL_MS} ms; ${PRESSES} presses; p50 ${p50(idle.siren)} ms`,
    }),
    result(
      'alarm.siren.latency.p99.busyflow',
      p99(busy.siren),
      'ms',
      { name: 'alarm.siren.latency.p99', value: p99(idle.siren) },
      {
        goal: 'ratio <= 1.1',
        note: `a deployed function node spins forever after an await (child stuck; ${busy.restarts} heartbeat restarts, ${busy.dropped} events dropped toward it during the presses); ${PRESSES} presses; p50 ${p50(busy.siren)} ms`,
      },
    ),
  ];
}
