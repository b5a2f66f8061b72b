/**
 * The parts an agent opens when it starts, in the order they are taken: the data folder's
 * lock, the outbox, the seq counter, then the parts that hold nothing until they start. Any
 * step that can refuse without holding anything (a profile that does not resolve) comes
 * first; a step that throws after the lock releases what was taken before it.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DeviceProfile } from '../config/schema/profile.js';
import { ConfigError, resolveProfiles } from '../config/load-config.js';
import type { AgentOptions, AgentSide } from './agent-options.js';
import { EventFactory } from './event-factory.js';
import { EventPipeline } from './event-pipeline.js';
import { Outbox } from './outbox/outbox.js';
import { SeqCounter, type SeqFileProblem } from './seq-counter.js';
import { Uplink, uplinkTopics } from './uplink/uplink.js';
import { IdleLanes } from './uplink/idle-lanes.js';
import { ChunkRequests } from './update/chunk-requests.js';
import { mqttSource } from './update/mqtt-source.js';
import { wireMedia, wirePictures, type MediaParts, type PictureTaking } from './wire-media.js';
import { VERSION } from './version.js';
import { DataDirLock } from './data-dir-lock.js';
import { PayloadProblems } from './payload-problems.js';
import { registerCommands } from './commands/register.js';
import { DeviceHistory } from './diagnostics/device-history.js';
import { wireAlarms, type AlarmParts } from './wire-alarms.js';
import { wireStorage, type StorageParts } from './wire-storage.js';
import type { FlowsPush } from './push/flows-push.js';
import type { wireNodeRed } from './wire-nodered.js';
import type { NodeRedSupervisor } from './nodered/supervisor.js';
import { pushStatus, readPushState } from './push/push-state.js';
import { runningManifest, UpdateStager } from './update/stager.js';
import { failure } from '../core/kernel/errors.js';

export interface AgentParts extends AlarmParts, StorageParts, MediaParts {
  lock: DataDirLock;
  outbox: Outbox;
  seqFileProblem: SeqFileProblem | null;
  /** The highest seq the outbox stored before this boot, or null (gateway.started says it). */
  previousLastSeq: number | null;
  factory: EventFactory;
  pipeline: EventPipeline;
  uplink: Uplink;
  payloadProblems: PayloadProblems;
  profiles: Map<string, DeviceProfile>;
  /** The Node-RED child, when the config has a `nodeRed` section (and it is enabled). */
  nodeRed: NodeRedSupervisor | null;
  /** The county's flows push (flows.get / flows.apply), with the Node-RED child. */
  flowsPush: FlowsPush | null;
  /** Pictures taken for camera alarms and rules' snapshots (into MediaParts' store). */
  taking: PictureTaking;
  /** The update's requests over MQTT (the idle lane beside the pictures). */
  chunkRequests: ChunkRequests;
}

/** The profiles the caller gave, else the config's, resolved (a problem throws before anything is opened). */
function profilesOf(opts: AgentOptions): Map<string, DeviceProfile> {
  if (opts.profiles) return opts.profiles;
  const resolved = resolveProfiles(opts.config, opts.baseDir);
  if (resolved.problems.length > 0) throw new ConfigError('config', resolved.problems);
  return resolved.profiles;
}

/**
 * wire-nodered.ts and the supervisor behind it, loaded by the caller (Agent.open) only when the
 * config runs Node-RED: a gateway without it does not carry that code (`--only rss-modules`).
 */
export type NodeRedWiring = typeof wireNodeRed | null;

/** Opens the parts; on a throw, whatever it opened is closed again before the error leaves. */
export function openAgentParts(a: AgentSide, nodeRedWiring: NodeRedWiring): AgentParts {
  const { config } = a.opts;
  const profiles = profilesOf(a.opts);
  mkdirSync(config.dataDir, { recursive: true });
  // Before anything in the folder is opened: a second agent there would lose events.
  const lock = DataDirLock.acquire(config.dataDir);
  let outbox: Outbox | null = null;
  try {
    outbox = new Outbox({
      dir: config.dataDir,
      config: config.outbox,
      clock: a.clock,
      diskReserveBytes: config.outbox.diskReserveBytes,
    });
    outbox.salvage(); // what a corrupt store left, before anything new is stored (boot events report it)
    return assemble(a, lock, outbox, profiles, nodeRedWiring);
  } catch (err) {
    outbox?.close();
    lock.release();
    throw err;
  }
}

function assemble(
  a: AgentSide,
  lock: DataDirLock,
  outbox: Outbox,
  profiles: Map<string, DeviceProfile>,
  nodeRedWiring: NodeRedWiring,
): AgentParts {
  const { config, logger, configHash } = a.opts;
  const gatewayId = config.gateway.id;
  const storedUpTo = outbox.maxSeq(); // the previous boots' last stored seq
  const seq = SeqCounter.open(join(config.dataDir, 'seq.json'), storedUpTo, undefined, a.clock.now);
  const payloadProblems = new PayloadProblems(logger, a.clock.monoMs);
  const factory = new EventFactory(gatewayId, seq, a.clock, payloadProblems);
  // Made before the storage parts it reports to: the sender saves only once it runs.
  const mediaParts = wireMedia(config, outbox, a.clock, logger, (file, err) =>
    storage.storageFailures.notSaved(basename(file), err),
  );
  const chunkRequests = new ChunkRequests(
    uplinkTopics(config.mqtt, gatewayId).updateRequest,
    logger.child({ part: 'update' }),
  );
  const uplink = new Uplink({
    config: config.mqtt,
    baseDir: a.opts.baseDir,
    gatewayId,
    identity: { bootId: factory.bootId, version: VERSION, configHash },
    outbox,
    logger,
    clock: a.clock,
    commands: a.commands,
    idle: new IdleLanes([mediaParts.mediaSender, chunkRequests]),
    updateChunks: (payload) => chunkRequests.receive(payload),
  });
  // A modem that registers again is the first sign the network is back: do not sit out a long backoff.
  a.bus.on('modem.registration', (e) => {
    if (e.data.registered) uplink.networkMayBeBack();
  });
  const pipeline: EventPipeline = new EventPipeline({
    factory,
    outbox,
    bus: a.bus,
    logger,
    watch: (event, stored) => alarmParts.lost.watch(event, stored),
  });
  const alarmParts = wireAlarms({
    a,
    pipeline,
    uplink,
    notSaved: (file, err) => storage.storageFailures.notSaved(file, err),
    refused: (n, err) => storage.storageFailures.refused(n, err),
    snapshot: (camera, channel, f) => taking.pictures.take(camera, channel, f, true),
  });
  const storage = wireStorage({ a, outbox, pipeline, alarms: alarmParts.alarms });
  const taking = wirePictures(a, mediaParts, pipeline, profiles);
  outbox.on('stored', (events) => a.stored(events));
  const { nodeRed, flowsPush } = nodeRedWiring
    ? nodeRedWiring(a, outbox, pipeline, alarmParts.alarms, taking.requests)
    : { nodeRed: null, flowsPush: null };
  // A lost alarm's report that only memory holds is stored as soon as there is room again.
  outbox.on('reserveHeld', (held) => held && alarmParts.lost.storeHeldReports());
  const history = new DeviceHistory();
  a.bus.subscribe(history.see); // the bus lives as long as the agent: nothing to unsubscribe
  registerCommands(a.commands, {
    config,
    // A county push on probation (or rolled back, not yet reported) is seen from the county too (villages list).
    status: () => ({ ...a.observe.status(), push: pushStatus(readPushState(config.dataDir)) }),
    emit: (e) => pipeline.emit(e),
    write: (c) => a.write(c),
    acknowledge: (alertId, by) => alarmParts.alarms.acknowledge(alertId, by),
    clear: (alertId) => alarmParts.alarms.clear(alertId),
    reloadConfig: a.opts.reloadConfig,
    configPush: a.opts.configPush,
    flowsPush,
    openAlerts: () => [...alarmParts.alarms.active.values()].filter((x) => !x.ackedAt).length,
    now: a.clock.now,
    nodeRed,
    media: taking.requests,
    logs: a.opts.logRing ?? null,
    devices: () => a.drivers().map((d) => d.describe()),
    history,
    restart: a.opts.restart,
    stager: new UpdateStager({
      dataDir: config.dataDir,
      gatewayId,
      running: VERSION,
      reserveBytes: outbox.reserve.size, // what the reserve holds here (capped on a small card)
      emit: (e) => pipeline.emit(e),
      base: runningManifest,
      lost: (err) => logger.error(failure('STORAGE_FAILED', err), 'update.refused not stored'),
    }),
    mqttSource: (version, timing) => mqttSource(chunkRequests, version, timing),
  });
  return {
    lock,
    outbox,
    seqFileProblem: seq.fileProblem,
    previousLastSeq: storedUpTo > 0 ? storedUpTo : null,
    factory,
    pipeline,
    uplink,
    payloadProblems,
    profiles,
    nodeRed,
    flowsPush,
    ...alarmParts,
    ...storage,
    ...mediaParts,
    taking,
    chunkRequests,
  };
}
