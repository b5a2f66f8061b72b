/**
 * The camera pictures' parts: the media store in dataDir/media (which never takes the room the
 * outbox's disk reserve keeps for alarms), its age sweep on a timer, and the pictures taken
 * for camera alarms (from the bus) and for rules' `snapshot` actions (through the alarms).
 */
import { join } from 'node:path';
import { failure } from '../core/kernel/errors.js';
import type { AgentSide } from './agent-options.js';
import type { EventPipeline } from './event-pipeline.js';
import { MediaStore } from './media/media-store.js';
import { Pictures } from './media/pictures.js';
import type { Outbox } from './outbox/outbox.js';

/** Pictures past media.maxAgeDays go within this long (each put also sweeps). */
const EXPIRE_EVERY_MS = 10 * 60_000;

export interface MediaParts {
  /** `store` is null when dataDir/media could not be opened (every picture is then refused, counted). */
  media: { store: MediaStore | null; pictures: Pictures; stop(): Promise<void> };
}

export function wireMedia(a: AgentSide, outbox: Outbox, pipeline: EventPipeline): MediaParts {
  const { config, logger } = a.opts;
  let store: MediaStore | null = null;
  try {
    store = new MediaStore({
      dir: join(config.dataDir, 'media'),
      config: config.media,
      clock: a.clock,
      reserveHeld: () => outbox.reserve.isHeld,
    });
  } catch (err) {
    // Pictures are never worth an agent that does not start: the alarms run without them.
    logger.error(failure('MEDIA_NO_ROOM', err, { part: 'media' }), 'the media folder cannot be opened: no pictures');
  }
  const pictures = new Pictures({
    store,
    logger: logger.child({ part: 'media' }),
    monoMs: a.clock.monoMs,
    capture: (id, channel) => a.capture(id, channel),
    emit: (e) => pipeline.emit(e),
  });
  const off = a.bus.subscribe((e) => pictures.onEvent(e));
  const timer = setInterval(() => {
    try {
      store?.expire();
    } catch (err) {
      // A lost or read-only card: the storage watch raises its alarm; the sweep tries again next time.
      logger.warn(failure('DATA_DIR_LOST', err, { part: 'media' }), 'old pictures could not be removed');
    }
  }, EXPIRE_EVERY_MS);
  timer.unref();
  return {
    media: {
      store,
      pictures,
      async stop() {
        off();
        clearInterval(timer);
        await pictures.settled();
      },
    },
  };
}
