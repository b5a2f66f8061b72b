/**
 * What the agent tells first at every start: a salvaged outbox, an unreadable seq file, the
 * start itself (with this boot's first seq, for the county's checker), a disk still full.
 * Stored when they can be: a gateway on a full card still starts and runs its local rules.
 */
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../core/contracts/event.js';
import type { Recovery } from './outbox/open-store.js';
import type { SeqFileProblem } from './seq-counter.js';
import type { OutboxStats } from './outbox/outbox.js';
import { isStorageRefusal } from '../core/contracts/outbox-store.js';
import { failure } from '../core/kernel/errors.js';

export interface BootFacts {
  gatewayId: string;
  logger: Logger;
  emit(e: EventInput): Promise<GatewayEvent>;
  recovered: Recovery | null;
  seqFileProblem: SeqFileProblem | null;
  version: string;
  configHash: string;
  firstSeq: number;
  previousLastSeq: number | null;
  stats: () => OutboxStats;
  reserve: { isHeld: boolean; size: number; freeBytes(): number };
}

export async function emitBootEvents(f: BootFacts): Promise<void> {
  const { logger, gatewayId: deviceId } = f;
  // A full disk is logged once a second by storage-failures.ts (and an alarm's loss reported by lost-alarms.ts).
  const notStored = (what: string) => (err: Error) =>
    isStorageRefusal(err) || logger.error(failure('STORAGE_FAILED', err), `${what} not stored`);
  if (f.recovered) {
    logger.error(failure('OUTBOX_CORRUPT', null, f.recovered), 'outbox was corrupt: moved aside, started fresh');
    await f
      .emit({ deviceId, type: 'gateway.storage_recovered', priority: 'critical', data: { ...f.recovered } })
      .catch(notStored('gateway.storage_recovered'));
  }
  if (f.seqFileProblem) {
    // The count went on from what the outbox holds; the bad file is kept for a technician.
    logger.error(
      failure('STATE_UNREADABLE', null, { ...f.seqFileProblem, file: 'seq.json' }),
      'sequence file was unreadable: kept aside, counting on from the outbox',
    );
    await f
      .emit({
        deviceId,
        type: 'gateway.state_recovered',
        priority: 'high',
        data: { file: 'seq.json', ...f.seqFileProblem },
      })
      .catch(notStored('gateway.state_recovered'));
  }
  const stats = f.stats();
  await f
    .emit({
      deviceId,
      type: 'gateway.started',
      priority: 'high',
      data: {
        version: f.version,
        configHash: f.configHash,
        backlog: stats.total,
        firstSeq: f.firstSeq,
        previousLastSeq: f.previousLastSeq,
        shed: stats.shed,
      },
    })
    .catch(notStored('gateway.started'));
  if (!f.reserve.isHeld && f.reserve.size > 0) {
    await f
      .emit({
        deviceId,
        type: 'gateway.disk_full',
        priority: 'critical',
        data: { freeBytes: f.reserve.freeBytes(), reserveBytes: f.reserve.size, atStart: true },
      })
      .catch(notStored('gateway.disk_full'));
  }
}
