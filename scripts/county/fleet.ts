/**
 * A fleet of gateways against one county broker: N light twins (the agent's real Uplink over an
 * outbox in memory, see fleet-twin.ts) connect with staggered starts, optionally each pushes a
 * backlog at once (the county after a district-wide outage: how fast does it take it all in?),
 * then the villages run at their usual rate for a while (end-to-end latency). The county side is
 * one consumer or a shared-subscription group; it de-duplicates by id and counts seqs per
 * gateway. The report: events/s ingested, latency, messages and bytes a second, the broker's
 * CPU seconds and memory (when its pid is known), and any loss (there must be none).
 *
 *   node dist/scripts/county/fleet.js --local | --url mqtt://host:1883 [--gateways 500] [--backlog 200]
 *     [--seconds 30] [--consumers 1] [--share county] [--check] [--json]   (--help for all)
 */
import { parseArgs } from 'node:util';
import { FleetCounty } from './fleet-county.js';
import { checkOpenFiles, procSample, type ProcSample } from './fleet-proc.js';
import { fleetOk, formatReport, percentiles, type FleetReport, type PhaseReport } from './fleet-report.js';
import { GatewayTwin, VILLAGE, type VillageRate } from './fleet-twin.js';

export type { FleetReport, PhaseReport };

export interface FleetOptions {
  url: string;
  gateways: number;
  /** Events each gateway queues at once after all are connected (0: no backlog phase). */
  backlog: number;
  /** Seconds of village traffic after the backlog (0: none). */
  seconds: number;
  village: VillageRate;
  /** County consumers; more than one share the load through `$share/<share>/...`. */
  consumers: number;
  share?: string;
  protocolVersion: 4 | 5;
  /** Gateway ids are `<idPrefix>-0001`...; their client ids too (persistent sessions, like the agent). */
  idPrefix: string;
  root: string;
  /** Between two gateways' first connects: 500 at once through one broker is a thundering herd. */
  staggerMs: number;
  /** The broker's pid when it runs here: its CPU seconds and memory are read from /proc. */
  brokerPid?: number;
  /** Every copy also through the DeliveryChecker (costs CPU in this process). */
  check: boolean;
  /** Overrides of the twins' `mqtt` config (the agent's defaults otherwise). */
  mqtt?: Record<string, unknown>;
  /** How long the county may take to receive everything after a phase before loss is reported. */
  settleMs: number;
  /** Called as a phase begins (every gateway connected and announced before the first): where a test injects a fault. */
  onPhase?: (phase: 'backlog' | 'live') => void;
}

export const FLEET_DEFAULTS: FleetOptions = {
  url: 'mqtt://127.0.0.1:1883',
  gateways: 500,
  backlog: 0,
  seconds: 30,
  village: VILLAGE,
  consumers: 1,
  protocolVersion: 5,
  idPrefix: 'fleet-gw',
  root: 'village',
  staggerMs: 10,
  check: false,
  settleMs: 120_000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFleet(options: Partial<FleetOptions> & { url: string }): Promise<FleetReport> {
  const o: FleetOptions = { ...FLEET_DEFAULTS, ...options };
  checkOpenFiles('self', 'this process', o.gateways + o.consumers);
  if (o.brokerPid !== undefined) checkOpenFiles(o.brokerPid, 'the broker', o.gateways + o.consumers);
  const sample = (): ProcSample | null => (o.brokerPid === undefined ? null : procSample(o.brokerPid));
  const idle = sample();
  const county = new FleetCounty({
    url: o.url,
    root: o.root,
    consumers: o.consumers,
    ...(o.share !== undefined ? { share: o.share } : {}),
    protocolVersion: o.protocolVersion,
    idPrefix: `${o.idPrefix}-county`,
    check: o.check,
  });
  const twins = Array.from(
    { length: o.gateways },
    (_, i) =>
      new GatewayTwin({
        gatewayId: `${o.idPrefix}-${String(i + 1).padStart(4, '0')}`,
        url: o.url,
        protocolVersion: o.protocolVersion,
        ...(o.mqtt ? { mqtt: o.mqtt } : {}),
      }),
  );
  const produced = () => twins.reduce((n, t) => n + t.produced, 0);
  const queued = () => twins.reduce((n, t) => n + t.outbox.size, 0);
  let backlog: PhaseReport | null = null;
  let live: FleetReport['live'] = null;
  try {
    await county.start();
    const t0 = performance.now();
    for (const twin of twins) {
      twin.start();
      if (o.staggerMs > 0) await sleep(o.staggerMs);
    }
    // Connected, and each gateway.started at the county: the link is up end to end.
    await county.waitForDistinct(produced(), o.settleMs);
    const connectSeconds = (performance.now() - t0) / 1000;

    const phase = async (run: () => Promise<void>): Promise<PhaseReport> => {
      const before = {
        at: performance.now(),
        delivered: county.distinct,
        messages: county.messages,
        bytes: county.bytes,
      };
      const cpu0 = sample()?.cpuSec;
      await run();
      // Every event of the phase PUBACKed by the broker (the twins' outboxes empty), and at the county.
      const untilAcked = async () => {
        const limit = performance.now() + o.settleMs;
        while (queued() > 0 && performance.now() < limit) await sleep(5);
        return performance.now();
      };
      const received = county.waitForDistinct(produced(), o.settleMs).then(() => performance.now());
      const [ackedAt, end] = await Promise.all([untilAcked(), received]);
      const seconds = (end - before.at) / 1000;
      const cpu1 = sample()?.cpuSec;
      const events = county.distinct - before.delivered;
      return {
        events,
        seconds,
        eventsPerSec: events / seconds,
        ackedSeconds: (ackedAt - before.at) / 1000,
        messagesPerSec: (county.messages - before.messages) / seconds,
        bytesPerSec: (county.bytes - before.bytes) / seconds,
        broker:
          cpu0 === undefined || cpu1 === undefined
            ? null
            : { cpuSec: cpu1 - cpu0, cpuPercent: ((cpu1 - cpu0) / seconds) * 100 },
      };
    };

    if (o.backlog > 0) {
      // Stored first (made and serialized outside the measured time), then every link "comes back" at once.
      for (const t of twins) t.backlog(o.backlog, true);
      o.onPhase?.('backlog');
      backlog = await phase(async () => twins.forEach((t) => t.release()));
    }
    if (o.seconds > 0) {
      county.measureLatency = true;
      o.onPhase?.('live');
      const p = await phase(async () => {
        const tickMs = 250;
        const end = performance.now() + o.seconds * 1000;
        while (performance.now() < end) {
          await sleep(tickMs);
          for (const t of twins) t.tick(o.village, tickMs / 1000);
        }
      });
      live = { ...p, latencyMs: percentiles(county.latenciesMs) };
    }
    const counts = new Map(twins.map((t) => [t.opts.gatewayId, t.produced]));
    const brokerNow = sample();
    const verdict = county.verdict();
    return {
      gateways: o.gateways,
      connected: twins.filter((t) => t.uplink.isUp).length,
      reconnects: twins.reduce((n, t) => n + t.uplink.stats().reconnects, 0),
      connectSeconds,
      consumers: o.consumers,
      share: o.share ?? null,
      produced: produced(),
      delivered: county.distinct,
      lost: produced() - county.distinct,
      duplicates: county.duplicates,
      gaps: county.gaps(counts),
      perConsumer: [...county.perConsumer],
      backlog,
      live,
      broker:
        idle && brokerNow
          ? { idleRssMb: idle.rssMb, rssMb: brokerNow.rssMb, peakRssMb: brokerNow.peakRssMb, cpuSec: brokerNow.cpuSec }
          : null,
      verdict: verdict
        ? { ok: verdict.ok, problems: verdict.problems, distinct: verdict.distinct, duplicates: verdict.duplicates }
        : null,
    };
  } finally {
    await Promise.all(twins.map((t) => t.stop()));
    await county.stop();
  }
}

const USAGE = `usage: fleet --local | --url mqtt://host:1883 [options]

  --local              start a Mosquitto here on a free port and report its CPU and memory
  --url URL            a broker already running (add --broker-pid PID if it runs on this machine)
  --gateways N         light twins (the agent's Uplink over an outbox in memory), default 500
  --backlog N          events each gateway queues at once once all are connected (default 0)
  --seconds S          seconds of village traffic afterwards (default 30)
  --sensors N --readings-per-min R --doors-per-hour D --alarms-per-hour A --health-sec H
                       the village rate (default 20 sensors, 1 reading a minute, 30 doors and 2
                       presses an hour, health every 60 s)
  --consumers K        county consumers (default 1); K > 1 needs --share
  --share GROUP        consumers subscribe $share/GROUP/village/+/events (and health, status)
  --batch-events N     at most N events a message (the agent's mqtt.batch.maxEvents, default 100)
  --protocol 4|5       MQTT 3.1.1 or 5 (default 5)
  --id-prefix P        gateway ids P-0001... (default fleet-gw)
  --stagger-ms MS      between two gateways' first connects (default 10)
  --check              also judge every copy with the county's DeliveryChecker
  --json               print the report as one JSON object
exit: 0 everything arrived, seqs contiguous; 1 loss or gaps; 2 usage or setup error`;

async function main(): Promise<number> {
  const int = (name: string, v: string | undefined, min = 0): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isInteger(x) || x < min)
      throw new UsageError(`--${name} must be a whole number >= ${min} (got "${v}")`);
    return x;
  };
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: 'string' as const }])),
        ...Object.fromEntries(BOOLEAN_FLAGS.map((k) => [k, { type: 'boolean' as const }])),
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const v = values as Record<string, string | boolean | undefined>;
  const str = (k: string) => v[k] as string | undefined;
  if (v.help) return (console.log(USAGE), 0);
  let broker: { url: string; pid: number | null; dispose(): Promise<void> } | null = null;
  try {
    if (Boolean(v.local) === (str('url') !== undefined)) throw new UsageError('give exactly one of --local and --url');
    const protocol = int('protocol', str('protocol'), 4);
    if (protocol !== undefined && protocol !== 4 && protocol !== 5) throw new UsageError('--protocol is 4 or 5');
    const consumers = int('consumers', str('consumers'), 1) ?? 1;
    if (consumers > 1 && str('share') === undefined) throw new UsageError('--consumers above 1 needs --share GROUP');
    const rate = (k: string, d: number) => int(k, str(k)) ?? d;
    const village: VillageRate = {
      sensors: rate('sensors', VILLAGE.sensors),
      readingsPerMin: rate('readings-per-min', VILLAGE.readingsPerMin),
      doorsPerHour: rate('doors-per-hour', VILLAGE.doorsPerHour),
      alarmsPerHour: rate('alarms-per-hour', VILLAGE.alarmsPerHour),
      healthSec: rate('health-sec', VILLAGE.healthSec),
    };
    if (v.local) broker = await localBroker(int('gateways', str('gateways'), 1) ?? FLEET_DEFAULTS.gateways);
    const brokerPid = broker?.pid ?? int('broker-pid', str('broker-pid'), 1);
    const batchEvents = int('batch-events', str('batch-events'), 1);
    const report = await runFleet({
      ...(batchEvents !== undefined ? { mqtt: { batch: { maxEvents: batchEvents } } } : {}),
      url: broker?.url ?? str('url')!,
      village,
      consumers,
      check: Boolean(v.check),
      ...defined({
        gateways: int('gateways', str('gateways'), 1),
        backlog: int('backlog', str('backlog')),
        seconds: int('seconds', str('seconds')),
        share: str('share'),
        protocolVersion: protocol as 4 | 5 | undefined,
        idPrefix: str('id-prefix'),
        staggerMs: int('stagger-ms', str('stagger-ms')),
        brokerPid: brokerPid ?? undefined,
      }),
    });
    console.log(v.json ? JSON.stringify(report) : formatReport(report));
    return fleetOk(report) ? 0 : 1;
  } catch (err) {
    console.error(err instanceof UsageError ? `${err.message}\n${USAGE}` : `fleet: ${(err as Error).message}`);
    return 2;
  } finally {
    await broker?.dispose();
  }
}

class UsageError extends Error {}

const STRING_FLAGS = [
  ...['url', 'gateways', 'backlog', 'seconds', 'sensors', 'readings-per-min', 'doors-per-hour', 'alarms-per-hour'],
  ...['health-sec', 'batch-events', 'consumers', 'share', 'protocol', 'id-prefix', 'stagger-ms', 'broker-pid'],
];
const BOOLEAN_FLAGS = ['local', 'check', 'json', 'help'];

function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as never;
}

/** A Mosquitto here, sized for the fleet (its connection limit above the fleet's size, every queue unbounded). */
async function localBroker(gateways: number): Promise<{ url: string; pid: number | null; dispose(): Promise<void> }> {
  const { Mosquitto, mosquittoPath } = await import('../brokers/mosquitto.js');
  const bin = mosquittoPath();
  if (!bin) throw new Error('--local needs mosquitto (apt-get install -y mosquitto)');
  const m = await new Mosquitto(bin, { extraConfig: [`max_connections ${gateways + 100}`] }).start();
  return { url: m.url, pid: m.pid, dispose: () => m.dispose() };
}

if (import.meta.url === `file://${process.argv[1]}`) void main().then((code) => process.exit(code));
