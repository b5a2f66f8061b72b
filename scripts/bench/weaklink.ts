/**
 * Weak links, end to end: an agent with the example config's MQTT settings and a village's
 * load (5 telemetry events a second), through the weak-link lab (scripts/weak-link) to a real
 * Mosquitto, and a county subscriber on the broker's side that timestamps every arrival.
 *
 * - weaklink.alarm.p95.steady: alarms pressed on edge-2g with no backlog (the link's own floor:
 *   a round trip and a bit); the baseline of
 * - weaklink.alarm.p95.draining: alarms pressed on edge-2g while a 30-minute backlog drains
 *   (goal <= 3 s).
 * - weaklink.drain: the time a 30-minute backlog takes to drain on weak-3g, against the link's
 *   raw time for the bytes the drain put on it (bytes / rate + delay; goal ratio <= 1.3).
 * - weaklink.alarm.p95.media and weaklink.media.delivery (weaklink-media.ts): presses while a
 *   camera's pictures upload, against the steady presses above; N pictures against the link.
 *
 * `--only weaklink-drain` runs the first three rows alone (about two minutes instead of six: no
 * pictures). WEAKLINK_TRACE=1 prints the drain's airtime figures every 250 ms while the edge-2g
 * backlog drains (see traceLink).
 *
 * Time-compressed: the 30-minute backlog (9,000 events at 5 a second) is stored in seconds with
 * the link cut, then the link comes back. What the drain sends does not depend on when the
 * events were made. Latency = the press (agent.emit) to the county's arrival, both on this
 * machine's clock.
 */
import { CountySubscriber } from '../county-subscriber.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { until } from './fixtures.js';
import { result, type BenchResult } from './result.js';
import { mediaRows } from './weaklink-media.js';
import {
  close,
  p95,
  pressAlarms,
  rig,
  startTelemetry,
  steadyPresses,
  steadyRow,
  telemetryEvent,
  VILLAGE_RATE,
  type Rig,
} from './weaklink-rig.js';

const BACKLOG = 30 * 60 * VILLAGE_RATE;

/** A 30-minute backlog stored with the link cut; then the link is back. Resolves once the agent is connected. */
async function withBacklog(r: Rig): Promise<void> {
  r.link.cut();
  await r.agent.start();
  for (let i = 0; i < BACKLOG; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, BACKLOG - i) }, () => r.agent.emit(telemetryEvent())));
  }
  r.link.restore();
  await until(() => r.agent.observe.link().up, 600_000, 'the uplink after the cut');
}

const backlogLeft = (r: Rig) => r.agent.observe.backlog().backlog.normal.count;

/**
 * WEAKLINK_TRACE=1: what the airtime budget thinks and what the lab's wire really holds, every
 * 250 ms, on stderr (one JSON line each): why an alarm waits while a backlog drains.
 */
function traceLink(r: Rig): { stop: () => void; pressed: (atMs: number, latencyMs: number) => void } {
  if (!process.env.WEAKLINK_TRACE) return { stop: () => {}, pressed: () => {} };
  const t0 = performance.now();
  const wall0 = Date.now();
  const timer = setInterval(() => {
    const { link } = r.agent.observe.link();
    const up = r.link.stats().up;
    const line = {
      t: Math.round(performance.now() - t0),
      backlog: backlogLeft(r),
      ...link,
      wireQueued: up.queuedBytes,
      wireWaiting: up.waitingBytes,
      wireOnAir: up.inFlightBytes,
    };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }, 250);
  return {
    stop: () => clearInterval(timer),
    pressed: (atMs, latencyMs) => process.stderr.write(`${JSON.stringify({ press: atMs - wall0, latencyMs })}\n`),
  };
}

export async function weaklinkBenchmarks(): Promise<BenchResult[]> {
  return withBroker(async (port, sub) => {
    const { rows, steadyMs } = await drainRows(port, sub);
    return [...rows, ...(await mediaRows(port, sub, p95(steadyMs)))];
  });
}

/** The steady, draining and drain rows alone (`--only weaklink-drain`). */
export async function weaklinkDrainBenchmarks(): Promise<BenchResult[]> {
  return withBroker(async (port, sub) => (await drainRows(port, sub)).rows);
}

async function withBroker<T>(run: (port: number, sub: CountySubscriber) => Promise<T>): Promise<T> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('weak-link benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  const port = Number(new URL(broker.url).port);
  const sub = await new CountySubscriber({ url: broker.url, clientId: `county-bench-${Date.now()}` }).start();
  try {
    return await run(port, sub);
  } finally {
    await sub.stop();
    await broker.dispose();
  }
}

async function drainRows(port: number, sub: CountySubscriber): Promise<{ rows: BenchResult[]; steadyMs: number[] }> {
  const steadyMs = await steadyPresses(port, sub);

  const draining = await rig(port, 'edge-2g', 'wl-draining');
  let drainingMs: number[];
  let pressedOfBacklog: number;
  try {
    await withBacklog(draining);
    startTelemetry(draining);
    const trace = traceLink(draining);
    drainingMs = await pressAlarms(draining, sub, () => backlogLeft(draining) > 0, trace.pressed);
    pressedOfBacklog = backlogLeft(draining);
    trace.stop();
  } finally {
    await close(draining);
  }

  const drain = await rig(port, 'weak-3g', 'wl-drain');
  let drainMs: number;
  let bytes: number;
  try {
    await withBacklog(drain);
    const trace = traceLink(drain);
    const t0 = performance.now();
    const before = drain.link.stats().up.forwardedBytes;
    await until(() => drain.agent.observe.backlog().total.count === 0, 1_800_000, 'the backlog to drain');
    drainMs = performance.now() - t0;
    bytes = drain.link.stats().up.forwardedBytes - before;
    trace.stop();
  } finally {
    await close(drain);
  }
  const rawMs = drain.link.rawLinkMs(bytes);
  const rows = [
    steadyRow(steadyMs),
    result(
      'weaklink.alarm.p95.draining',
      p95(drainingMs),
      'ms',
      { name: 'weaklink.alarm.p95.steady', value: p95(steadyMs) },
      {
        goal: '<= 3000 ms',
        note: `edge-2g, ${drainingMs.length} presses while a ${BACKLOG}-event backlog drained (${pressedOfBacklog} left at the last); max ${Math.max(...drainingMs)} ms`,
      },
    ),
    result(
      'weaklink.drain',
      drainMs / 1000,
      's',
      { name: 'weaklink.drain.raw', value: rawMs / 1000 },
      {
        goal: 'ratio <= 1.3',
        note: `weak-3g, ${BACKLOG} events, ${bytes} bytes up (${(bytes / BACKLOG).toFixed(0)} B/event)`,
      },
    ),
  ];
  return { rows, steadyMs };
}
