/**
 * The county side at scale (`--only fleet`): 500 gateway twins (the agent's own Uplink over an
 * outbox in memory, scripts/county/fleet.ts) against one Mosquitto on this machine, each
 * pushing a backlog at once (a district back after an outage), then the villages at their usual
 * rate. Baseline: the same events in the same messages from ONE bare mqtt.js client (pipelined
 * QoS 1, window 20), to the same kind of broker and county consumer, in the same run: the ratio
 * is what 500 connections and sessions cost against one. The twins, the raw client and the
 * county consumer share one Node process; the broker has the other core. Fleet and raw runs
 * alternate, three of each, and each figure is a median: the machine is shared.
 */
import mqtt from 'mqtt';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { runFleet, type FleetReport } from '../county/fleet.js';
import { FleetCounty } from '../county/fleet-county.js';
import { procSample } from '../county/fleet-proc.js';
import { GatewayTwin, VILLAGE } from '../county/fleet-twin.js';
import { result, type BenchResult } from './result.js';

const GATEWAYS = 500;
const BACKLOG = 400; // events a gateway: 200,000 in all
const BACKLOG_UNBATCHED = 100; // one event a message: 50,000 messages
const LIVE_SEC = 30;
const WINDOW = 20;
const RUNS = 3;

async function withBroker<T>(bin: string, fn: (m: Mosquitto) => Promise<T>): Promise<T> {
  const m = await new Mosquitto(bin, { extraConfig: [`max_connections ${GATEWAYS + 100}`] }).start();
  try {
    return await fn(m);
  } finally {
    await m.dispose();
  }
}

/** The messages a twin's drain would send for `events` readings, batched by up to `perMessage`. */
function messagesOf(events: number, perMessage: number): string[] {
  const twin = new GatewayTwin({ gatewayId: 'raw-gw', url: 'mqtt://127.0.0.1:1', protocolVersion: 5 });
  twin.backlog(events);
  const bodies = twin.outbox.readPage(null, events).map((r) => r.body);
  const out: string[] = [];
  for (let i = 0; i < bodies.length; i += perMessage) {
    const part = bodies.slice(i, i + perMessage);
    out.push(part.length === 1 ? part[0]! : `{"v":1,"gatewayId":"raw-gw","events":[${part.join(',')}]}`);
  }
  return out;
}

/** One raw client sends the messages (window 20) until the county consumer has every event: events/s and broker CPU s. */
async function rawSingle(bin: string, events: number, perMessage: number): Promise<{ rate: number; cpuSec: number }> {
  const payloads = messagesOf(events, perMessage);
  return withBroker(bin, async (m) => {
    const county = new FleetCounty({
      url: m.url,
      root: 'village',
      consumers: 1,
      protocolVersion: 5,
      idPrefix: 'raw-county',
      check: false,
    });
    await county.start();
    const client = await mqtt.connectAsync(m.url, { protocolVersion: 5, clientId: 'raw-gw', clean: false });
    client.on('error', () => {}); // a failure shows as a county that never gets everything (the wait below)
    try {
      const cpu0 = procSample(m.pid!).cpuSec;
      const t0 = performance.now();
      let next = 0;
      const send = (): void => {
        const i = next++;
        if (i < payloads.length)
          client.publish('village/raw-gw/events', payloads[i]!, { qos: 1 }, (err) => (err ? undefined : send()));
      };
      for (let w = 0; w < WINDOW; w++) send();
      if (!(await county.waitForDistinct(events, 120_000))) throw new Error('raw baseline: events missing');
      const seconds = (performance.now() - t0) / 1000;
      return { rate: events / seconds, cpuSec: procSample(m.pid!).cpuSec - cpu0 };
    } finally {
      await client.endAsync();
      await county.stop();
    }
  });
}

function fleetRun(bin: string, backlog: number, seconds: number, perMessage: number): Promise<FleetReport> {
  return withBroker(bin, async (m) => {
    const r = await runFleet({
      url: m.url,
      gateways: GATEWAYS,
      backlog,
      seconds,
      village: VILLAGE,
      brokerPid: m.pid!,
      mqtt: { batch: { maxEvents: perMessage } },
    });
    if (r.lost !== 0 || r.gaps.length > 0)
      throw new Error(`fleet run lost ${r.lost} events (${r.gaps.length} gateways with gaps)`);
    return r;
  });
}

/** The run with the median `key` of `runs`: the machine is shared, single runs swing. */
function median<T>(runs: T[], key: (r: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)]!;
}

/**
 * Fleet and raw runs alternate (three pairs each), so a burst of other work on the machine
 * falls on both sides; each figure is the median of its three.
 */
async function pairs(
  bin: string,
  backlog: number,
  perMessage: number,
): Promise<{ fleet: FleetReport; raw: { rate: number; cpuSec: number } }> {
  const fleets: FleetReport[] = [];
  const raws: { rate: number; cpuSec: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    fleets.push(await fleetRun(bin, backlog, 0, perMessage));
    raws.push(await rawSingle(bin, GATEWAYS * backlog, perMessage));
  }
  return { fleet: median(fleets, (r) => r.backlog!.eventsPerSec), raw: median(raws, (r) => r.rate) };
}

export async function fleetBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('fleet benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const { fleet: batched, raw: rawBatched } = await pairs(bin, BACKLOG, 100);
  const { fleet: unbatched, raw: rawUnbatched } = await pairs(bin, BACKLOG_UNBATCHED, 1);
  const liveRun = await fleetRun(bin, 0, LIVE_SEC, 100);
  const b = batched.backlog!;
  const u = unbatched.backlog!;
  const live = liveRun.live!;
  const per100k = (cpuSec: number, events: number) => (cpuSec / events) * 100_000;
  return [
    result(
      'fleet.ingest',
      b.eventsPerSec,
      'events/s',
      { name: 'fleet.raw.single', value: rawBatched.rate },
      {
        note: `${GATEWAYS} gateways x ${BACKLOG} events at once, batches of <= 100 (the agent's default); all PUBACKed after ${b.ackedSeconds.toFixed(2)} s; broker ${b.broker!.cpuPercent.toFixed(0)} % of a core`,
      },
    ),
    result(
      'fleet.ingest.unbatched',
      u.eventsPerSec,
      'events/s',
      { name: 'fleet.raw.single.unbatched', value: rawUnbatched.rate },
      {
        note: `${GATEWAYS} x ${BACKLOG_UNBATCHED} events, one a message; broker ${u.broker!.cpuPercent.toFixed(0)} % of a core`,
      },
    ),
    result(
      'fleet.broker.cpu',
      per100k(u.broker!.cpuSec, u.events),
      'CPU s/100k msgs',
      { name: 'fleet.raw.single.unbatched', value: per100k(rawUnbatched.cpuSec, GATEWAYS * BACKLOG_UNBATCHED) },
      { note: 'Mosquitto user+system CPU per 100k one-event messages in, and out to one county consumer' },
    ),
    result('fleet.live.latency.p95', live.latencyMs.p95, 'ms', undefined, {
      note: `capture -> county, ${GATEWAYS} villages at their usual rate for ${LIVE_SEC} s (${live.eventsPerSec.toFixed(0)} events/s); p50 ${live.latencyMs.p50} ms`,
    }),
    result(
      'fleet.broker.rss',
      batched.broker!.peakRssMb,
      'MB',
      { name: 'broker.rss.idle', value: batched.broker!.idleRssMb },
      {
        note: `peak RSS with ${GATEWAYS} persistent sessions taking ${GATEWAYS * BACKLOG} events at once; ${liveRun.broker!.peakRssMb.toFixed(1)} MB at the village rate alone`,
      },
    ),
  ];
}
