/**
 * What the agent does about its data folder: counts and logs storage failures, watches the
 * folder (a lost or read-only card raises the storage alarm), reports shed events, tells of
 * the disk reserve going to the alarms, and writes the device snapshot the CLI reads.
 */
import { failure } from '../core/kernel/errors.js';
import type { AgentSide } from './agent-options.js';
import type { LocalAlarms } from './alarms/local-alarms.js';
import { DeviceSnapshot } from './device-snapshot.js';
import type { EventPipeline } from './event-pipeline.js';
import type { Outbox, StorageError } from './outbox/outbox.js';
import { ShedReporter } from './shed-reporter.js';
import { readStatusFile, STATUS_FILE, statusView, viewPath } from './status-view.js';
import { raiseStorageAlarm } from './storage-alarm.js';
import { StorageFailures } from './storage-failures.js';
import { StorageWatch } from './storage-watch.js';
import { VERSION } from './version.js';

export interface StorageParts {
  storageFailures: StorageFailures;
  storageWatch: StorageWatch;
  shed: ShedReporter;
  snapshot: DeviceSnapshot;
}

export interface StorageWiring {
  a: AgentSide;
  outbox: Outbox;
  pipeline: EventPipeline;
  alarms: LocalAlarms;
}

export function wireStorage({ a, outbox, pipeline, alarms }: StorageWiring): StorageParts {
  const { config, logger } = a.opts;
  const gatewayId = config.gateway.id;
  const storageLogger = logger.child({ part: 'storage' });
  const storageFailures = new StorageFailures(storageLogger, a.clock.monoMs);
  const storageWatch = new StorageWatch({
    dataDir: config.dataDir,
    logger: storageLogger,
    monoMs: a.clock.monoMs,
    raise: (reason) =>
      raiseStorageAlarm(
        {
          config,
          logger,
          emit: (e) => pipeline.emit(e),
          write: (c) => a.write(c),
          sms: alarms.sms ? (to, text, why) => alarms.sms!.enqueue(to, text, null, why) : null,
        },
        reason,
      ),
    restored: (reason) =>
      pipeline.emitLogged({
        deviceId: gatewayId,
        type: 'gateway.storage_restored',
        priority: 'high',
        data: { was: reason },
      }),
  });
  const previousContact = readStatusFile(viewPath(config, STATUS_FILE))?.link.lastCountyContact ?? null;
  const snapshot = new DeviceSnapshot({
    dataDir: config.dataDir,
    runtimeDir: config.runtimeDir,
    logger,
    now: a.clock.now,
    devices: () => a.drivers().map((d) => d.describe()),
    buses: () => a.buses().map((b) => b.describe()),
    nodeRed: () => a.observe.nodeRed(),
    status: () =>
      statusView({
        observe: a.observe,
        gatewayId,
        version: VERSION,
        now: a.clock.now,
        heartbeat: () => a.heartbeat(),
        stopping: () => a.stopping(),
        previousContact,
      }),
  });
  const shed = new ShedReporter({
    gatewayId,
    logger,
    emit: (e) => pipeline.emit(e),
    totals: () => outbox.stats().shed,
  });
  outbox.on('stored', () => storageWatch.noteSuccess());
  outbox.on('storageFailure', (f) => {
    storageFailures.report(f);
    storageWatch.noteFailure((f.error as StorageError).storeCode, f.error.message);
  });
  outbox.on('reserveReleased', (info) => {
    // An alarm of its own: a rule can sound the siren on it; the county sees it first.
    logger.error(
      failure('DISK_FULL', null, info),
      'disk full: the disk reserve went to alarms; telemetry is refused until there is room',
    );
    pipeline.emitLogged({ deviceId: gatewayId, type: 'gateway.disk_full', priority: 'critical', data: info });
  });
  outbox.on('shed', (notice) => shed.note(notice));
  return { storageFailures, storageWatch, shed, snapshot };
}
