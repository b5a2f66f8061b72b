/**
 * `npm run demo` (`node dist/scripts/demo.js [--json]`): a simulated village on an embedded default. An
 * embedded broker (aedes)
 * stands in for the county, the agent runs with config/demo.yaml, a county-side subscriber
 * counts what arrives, and the uplink is cut for several seconds mid-run, then restored.
 * A simulated gate camera (demo-gate-camera.ts) reports an intrusion "at night" early on: the
 * county side times its alarm and its picture, and saves the picture in a folder it prints.
 * The technicians' Node-RED editor runs alongside (a supervised child process, loopback only):
 * its URL, user and a one-time password generated at start are printed first; the password
 * lives only in this process's environment (config/demo.yaml refers to it by `{env}`).
 * Ends by itself in well under a minute with a summary; `--json` makes the last line JSON;
 * `--lab` keeps the village up afterwards for a county's own consumer; `--help` (demo-lab.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Agent } from '../agent/agent.js';
import { parseConfigText, validateConfig } from '../config/load-config.js';
import { AedesBroker } from './brokers/aedes-broker.js';
import { CountySubscriber } from './county-subscriber.js';
import { DeliveryChecker } from './county/delivery-checker.js';
import { verdictLine } from './county/format-verdict.js';
import { percentile, round } from './stats.js';
import { TcpProxy } from './weak-link/tcp-proxy.js';
import { freePort } from './brokers/free-port.js';
import { SimulatedVillage } from './simulators/village.js';
import { ModemSimulator } from './simulators/modem-simulator.js';
import { PtyPair } from './simulators/pty-pair.js';
import { spawnSync } from 'node:child_process';
import { DemoGateCamera, gateCameraLine, type GateCameraSummary } from './demo-gate-camera.js';
import { DEMO_USAGE, parseDemoArgs, runLab, type DemoArgs } from './demo-lab.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));
const PLAN = { cutAtMs: 5000, cutForMs: 8000, produceForMs: 18_000, drainTimeoutMs: 20_000, intrusionAtMs: 2000 };

export interface DemoSummary {
  produced: number;
  delivered: number;
  lost: number;
  duplicates: number;
  largestBacklog: number;
  uplinkCutMs: number;
  reconnects: number;
  alarms: number;
  sirens: number;
  sms: number;
  acks: number;
  ledsLit: number;
  presses: number;
  doorOpenings: number;
  alarmLatencyMs: { p50: number | null; p99: number | null };
  alarmLatencyLinkUpMs: { p50: number | null; p99: number | null };
  /** The Node-RED child, from the supervisor's stats (agent.observe.nodeRed()). */
  flows: {
    editorUrl: string;
    /** Whether the editor came up (said ready) during the run. */
    ready: boolean;
    /** Events the child counted in (its last heartbeat reply). */
    seen: number;
    /** Events the agent handed to the child, and those dropped from its bounded queue. */
    sent: number;
    dropped: number;
    restarts: number;
  };
  /**
   * The end-to-end delivery checker's verdict on every copy the county received (scripts/county/delivery-
   * checker.ts).
   */
  check: {
    ok: boolean;
    problems: string[];
    boots: {
      gatewayId: string;
      bootId: string;
      firstSeq: number;
      lastSeq: number;
      received: number;
      missing: number;
    }[];
    committed: number;
    undelivered: number;
    duplicates: number;
    /** Pictures announced by camera.picture, and those the checker put together whole as announced. */
    pictures: { announced: number; whole: number };
  };
  /** The gate camera's intrusion at night, as the county saw it (demo-gate-camera.ts). */
  gateCamera: GateCameraSummary;
  /** Where the county side saved the pictures it put together (kept after the demo). */
  pictureDir: string;
  durationMs: number;
}

export async function runDemo({ json, lab = false }: { json: boolean; lab?: boolean }): Promise<number> {
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'village-demo-'));
  const broker = await new AedesBroker().start();
  const proxy = await new TcpProxy({ targetPort: broker.port }).start();
  const village = await new SimulatedVillage().start(await freePort());
  const pictureDir = mkdtempSync(join(tmpdir(), 'village-demo-pictures-'));
  const gate = await new DemoGateCamera(pictureDir).start();
  // The editor's one-time password and the flows' credential secret: random, in this process's
  // environment only, where config/demo.yaml's {env} refs find them (the child gets neither variable).
  const editorPassword = randomBytes(9).toString('base64url');
  process.env[EDITOR_PASSWORD_ENV] = editorPassword;
  process.env[CREDENTIAL_SECRET_ENV] = randomBytes(24).toString('base64url');
  const raw = parseConfigText(readFileSync(DEMO_CONFIG, 'utf8'), DEMO_CONFIG) as Record<string, unknown> & {
    mqtt: object;
    buses: object[];
    devices: object[];
    nodeRed: { host: string; port: number; users: { username: string }[] };
  };
  const editorPort = (await portIsFree(raw.nodeRed.port, raw.nodeRed.host)) ? raw.nodeRed.port : await freePort();
  const editorUrl = `http://${raw.nodeRed.host}:${editorPort}/`;
  const buses = raw.buses.map((b) => ({ ...b, port: village.sim.port }));
  // The village modem needs a serial line: a socat pty pair, where socat is installed.
  const modemLine = hasSocat() ? await new PtyPair('demo-modem').start() : null;
  const modemSim = modemLine ? await new ModemSimulator(modemLine.a).open() : null;
  const devices = [
    ...raw.devices,
    gate.device(),
    ...(modemLine
      ? [{ id: 'village-modem', driver: 'modem', path: modemLine.b, profile: 'simcom-sim7600', statusPollSec: 5 }]
      : []),
  ];
  const config = validateConfig(
    {
      ...raw,
      dataDir,
      buses,
      devices,
      mqtt: { ...raw.mqtt, url: proxy.url },
      nodeRed: { ...raw.nodeRed, port: editorPort },
    },
    DEMO_CONFIG,
  );
  const logger = pino({ level: 'error' }, pino.destination({ fd: 2, sync: true }));
  // A heartbeat a second (default 5 s): the summary's count of events the flows saw is that fresh.
  const agent = new Agent({ config, configHash: 'demo', baseDir: dataDir, logger, nodeRed: { pingMs: 1000 } });
  const county = await new CountySubscriber({ url: broker.url, clientId: 'county-demo', pictureDir }).start();
  // The county's operator acknowledges every alert as it arrives: "help is coming".
  let acks = 0;
  const prefix = `village/${config.gateway.id}`;
  await county.client!.subscribeAsync(`${prefix}/cmd-reply/ack`, { qos: 1 });
  county.client!.on('message', (topic, payload) => {
    if (topic.endsWith('/cmd-reply/ack') && (JSON.parse(payload.toString()) as { ok: boolean }).ok) acks += 1;
  });
  county.on('event', (e) => {
    if (e.type === 'alert.raised')
      void county.client!.publishAsync(
        `${prefix}/cmd/ack`,
        JSON.stringify({ id: `ack-${e.id}`, args: { alertId: e.id } }),
        { qos: 1 },
      );
  });

  const produced = new Map<string, { type: string; capturedMs: number; linkUp: boolean }>();
  // The same verdict the tests and the county CLI give: every copy that arrives, every event the gateway committed.
  const checker = new DeliveryChecker({ picturesRequired: true });
  county.on('arrival', (e) => checker.receive(e));
  county.on('media', (gatewayId, pictureId, payload) => checker.chunk(gatewayId, pictureId, payload));
  const gateStored = gate.watch(county);
  agent.observe.onStored((events) => {
    gateStored(events);
    for (const e of events) {
      produced.set(e.id, { type: e.type, capturedMs: Date.parse(e.ts), linkUp: agent.observe.link().up });
      checker.committed(e.id, e.seq, { gatewayId: e.gatewayId, priority: e.priority });
    }
  });
  const latencies: number[] = [];
  const latenciesLinkUp: number[] = [];
  county.on('event', (e, arrivedMs) => {
    if (e.type !== 'alarm.pressed') return;
    const p = produced.get(e.id);
    const lat = arrivedMs - Date.parse(e.ts);
    latencies.push(lat);
    if (p?.linkUp) latenciesLinkUp.push(lat);
  });

  say(
    `village demo: broker on ${broker.url}, Modbus village on port ${village.sim.port}, agent "${config.gateway.id}" with ${config.devices.length} devices, data in ${dataDir}`,
  );
  say(`gate camera: Hikvision (simulated) on port ${gate.port}; the county saves its pictures in ${pictureDir}`);
  say(
    `Node-RED editor: ${editorUrl} (user "${raw.nodeRed.users[0]!.username}", one-time password ${editorPassword}; loopback only, gone when the demo ends)`,
  );
  let largestBacklog = 0;
  const ticker = setInterval(() => {
    const backlog = agent.observe.backlog().total.count;
    largestBacklog = Math.max(largestBacklog, backlog);
    const t = ((Date.now() - started) / 1000).toFixed(0).padStart(2);
    say(
      `  t=${t}s link=${proxy.mode === 'pass' ? 'up  ' : 'CUT '} produced=${produced.size} delivered=${county.events.size} backlog=${backlog}`,
    );
  }, 1000);

  await agent.start();
  village.live();
  let editorReady = false;
  const editorWatch = setInterval(() => {
    const nr = agent.observe.nodeRed();
    if (nr?.state !== 'running') return;
    clearInterval(editorWatch);
    editorReady = true;
    say(`  >>> Node-RED editor ready at ${nr.url} in ${nr.lastStartMs} ms, with the default flows`);
  }, 100);
  await sleep(PLAN.intrusionAtMs);
  say('  >>> 02:13 at the gate camera: someone walks in through the village gate (intrusion)');
  gate.intrusion();
  await sleep(PLAN.cutAtMs - PLAN.intrusionAtMs);
  say(`  >>> cutting the uplink for ${PLAN.cutForMs / 1000} s (the gateway keeps capturing and buffering)`);
  proxy.cut();
  await sleep(PLAN.cutForMs);
  proxy.restore();
  say('  >>> uplink restored: replaying the backlog, alarms first');
  await sleep(PLAN.produceForMs - PLAN.cutAtMs - PLAN.cutForMs);
  village.quiet();
  // The last press may still be held (quiet() cancels its release): stop the devices only once
  // the polls have turned every press into an event (a fixed wait lost the last one on a busy machine).
  const pressEvents = () => [...produced.values()].filter((p) => p.type === 'alarm.pressed').length;
  const pollDeadline = Date.now() + 5000;
  while (pressEvents() < village.presses && Date.now() < pollDeadline) await sleep(20);
  await Promise.all(agent.drivers.map((d) => d.stop()));
  agent.jobs.flushOutbox();
  say('  >>> devices stopped; waiting for the backlog to drain');
  await county
    .waitFor(() => [...produced.keys()].every((id) => county.events.has(id)), PLAN.drainTimeoutMs)
    .catch(() => undefined);
  const smsDeadline = Date.now() + 10_000;
  while (agent.observe.alarms().smsPending.length > 0 && modemSim && Date.now() < smsDeadline) await sleep(100);
  await county.waitFor(() => [...produced.keys()].every((id) => county.events.has(id)), 5000).catch(() => undefined);
  // The picture goes only while no event waits: it may still be on its way.
  const pictureDeadline = Date.now() + 10_000;
  while (!gate.settled() && Date.now() < pictureDeadline) await sleep(50);
  clearInterval(ticker);
  clearInterval(editorWatch);
  // The child's count comes with its heartbeat reply: wait (briefly) for one that has all sent so far.
  const flowsDeadline = Date.now() + 3000;
  const nrNow = () => agent.observe.nodeRed();
  const sentBefore = nrNow()?.sent ?? 0;
  while (editorReady && (nrNow()?.childEvents ?? 0) < sentBefore && Date.now() < flowsDeadline) await sleep(50);
  const nr = nrNow();
  const flows = {
    editorUrl,
    ready: editorReady,
    seen: nr?.childEvents ?? 0,
    sent: nr?.sent ?? 0,
    dropped: nr?.dropped ?? 0,
    restarts: nr?.restarts ?? 0,
  };
  const reconnects = agent.observe.link().reconnects;
  const modem = agent.observe.devices().find((d) => d.driver === 'modem')?.detail;
  const modemStatus = modem
    ? `${String(modem['registration'] ?? '?')} network, signal ${String(modem['dbm'] ?? '?')} dBm`
    : 'skipped (install socat for the simulated modem)';
  await agent.stop();
  await county.stop();
  const teardown = async () => {
    await proxy.stop();
    await broker.stop();
    await village.stop();
    await gate.stop();
    await modemSim?.close();
    await modemLine?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (!lab) await teardown(); // in the lab, after Ctrl-C (below)

  const lost = [...produced.keys()].filter((id) => !county.events.has(id)).length;
  const verdict = checker.verdict();
  const summary: DemoSummary = {
    produced: produced.size,
    delivered: produced.size - lost,
    lost,
    duplicates: county.duplicates,
    largestBacklog,
    uplinkCutMs: PLAN.cutForMs,
    reconnects,
    alarms: [...produced.values()].filter((p) => p.type === 'alarm.pressed').length,
    sirens: village.sirens,
    sms: modemSim?.sent.length ?? 0,
    acks,
    ledsLit: village.ledsLit,
    presses: village.presses,
    doorOpenings: village.doorOpenings,
    alarmLatencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) },
    alarmLatencyLinkUpMs: { p50: round(percentile(latenciesLinkUp, 50)), p99: round(percentile(latenciesLinkUp, 99)) },
    flows,
    check: {
      ok: verdict.ok,
      problems: verdict.problems,
      boots: verdict.boots.map((b) => ({
        gatewayId: b.gatewayId,
        bootId: b.bootId,
        firstSeq: b.firstSeq,
        lastSeq: b.lastSeq,
        received: b.received,
        missing: b.missingCount,
      })),
      committed: verdict.committed,
      undelivered: verdict.undelivered.length,
      duplicates: verdict.duplicates,
      pictures: { announced: verdict.pictures.announced, whole: verdict.pictures.whole },
    },
    gateCamera: gate.summary(),
    pictureDir,
    durationMs: Date.now() - started,
  };
  say('');
  say('summary');
  say(`  produced   ${summary.produced} events (stored durably on the gateway)`);
  say(`  delivered  ${summary.delivered} (distinct ids at the county subscriber)`);
  say(`  lost       ${summary.lost}`);
  say(`  duplicates ${summary.duplicates} (re-sent after the cut; same ids, dropped by the subscriber)`);
  say(`  check      ${verdictLine(verdict)}`);
  say(
    `  village    ${summary.presses} panic-button presses -> ${summary.alarms} alarm.pressed events; ${summary.doorOpenings} door openings`,
  );
  say(
    `  alarms     ${summary.sirens} siren sounds; ${summary.acks} alerts acknowledged by the county, ${summary.ledsLit} "help is coming" LEDs lit`,
  );
  say(`  modem      ${modemStatus}; ${summary.sms} SMS sent while the uplink was cut`);
  say(
    `  largest backlog ${summary.largestBacklog} events; uplink cut ${summary.uplinkCutMs / 1000} s; reconnects ${summary.reconnects}`,
  );
  say(
    `  alarm latency, press -> county: p50 ${summary.alarmLatencyMs.p50} ms, p99 ${summary.alarmLatencyMs.p99} ms over ${summary.alarms} alarms (incl. those buffered during the cut)`,
  );
  say(
    `  alarm latency while the link was up: p50 ${summary.alarmLatencyLinkUpMs.p50} ms, p99 ${summary.alarmLatencyLinkUpMs.p99} ms`,
  );
  say(
    `  flows      ${flows.seen} events seen by the Node-RED flows (${flows.sent} sent by the agent, ${flows.dropped} dropped, ${flows.restarts} restarts)${flows.ready ? '' : '; the editor never came up'}`,
  );
  say(`  gate camera ${gateCameraLine(summary.gateCamera)}`);
  if (summary.gateCamera.savedAs) say(`  picture    saved by the county as ${summary.gateCamera.savedAs}`);
  if (json) say(JSON.stringify(summary));
  if (lab) {
    village.live();
    await runLab({ config, dataDir, logger, brokerUrl: broker.url, say });
    await teardown();
  }
  return summary.lost === 0 && verdict.ok && summary.gateCamera.sha256ok ? 0 : 1;
}

const EDITOR_PASSWORD_ENV = 'VILLAGE_DEMO_EDITOR_PASSWORD';
const CREDENTIAL_SECRET_ENV = 'VILLAGE_DEMO_CREDENTIAL_SECRET';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Whether nothing listens on host:port now (the editor's configured port, 1880). */
const portIsFree = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
const hasSocat = () => spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

// `npm run demo` runs this file; the agent's own CLI does not ship the demo (nor aedes).
if (import.meta.url === `file://${process.argv[1]}`) {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${DEMO_USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(DEMO_USAGE);
    process.exit(0);
  }
  runDemo(args).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
