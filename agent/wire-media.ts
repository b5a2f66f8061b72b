/**
 * The camera pictures' parts: the media store in dataDir/media (which never takes the room the
 * outbox's disk reserve keeps for alarms) and its uploader, the drain's idle lane (both made
 * before the uplink, which takes the uploader); then, once the event pipeline exists, the
 * pictures taken for camera alarms (from the bus) and for rules' `snapshot` actions (through
 * the alarms), and the age sweep on a timer.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { Clock } from '../core/kernel/clock.js';
import { failure, GatewayError } from '../core/kernel/errors.js';
import type { DeviceProfile } from '../config/schema/profile.js';
import type { AgentSide } from './agent-options.js';
import type { EventPipeline } from './event-pipeline.js';
import { MediaSender } from './media/media-sender.js';
import { MediaStore } from './media/media-store.js';
import { MediaRequests } from './media/media-requests.js';
import { Pictures } from './media/pictures.js';
import type { Outbox } from './outbox/outbox.js';
import { uplinkTopics } from './uplink/uplink.js';

/** Pictures past media.maxAgeDays go within this long (each put also sweeps). */
const EXPIRE_EVERY_MS = 10 * 60_000;

export interface MediaParts {
  media: MediaStore;
  mediaSender: MediaSender;
  /** Picture id -> the event it was taken for, so chunk 0 can name it (the last 1,000; not kept across a restart). */
  pictureCauses: Map<string, string | null>;
}

const CAUSES_KEPT = 1000;

/** The store and its uploader. Never throws: a folder that cannot be opened costs pictures, not the agent. */
export function wireMedia(
  config: GatewayConfig,
  outbox: Outbox,
  clock: Clock,
  logger: Logger,
  notSaved: (file: string, err: Error) => void,
): MediaParts {
  const media: MediaStore = new MediaStore({
    dir: join(config.dataDir, 'media'),
    config: config.media,
    clock,
    reserveHeld: () => outbox.reserve.isHeld,
    sent: (id: string): boolean => mediaSender.sent(id), // made just below; asked only when a picture is put
  });
  if (media.problem !== null)
    // Pictures are never worth an agent that does not start: the alarms run without them.
    logger.error(
      failure('MEDIA_NO_ROOM', media.problem, { part: 'media' }),
      'the media folder cannot be opened: no pictures',
    );
  const pictureCauses = new Map<string, string | null>();
  const mediaSender: MediaSender = new MediaSender({
    store: media,
    eventIdOf: (pic) => pictureCauses.get(pic.id) ?? null,
    notSaved,
    upload: config.media.upload,
    prefix: uplinkTopics(config.mqtt, config.gateway.id).prefix,
    stateFile: join(config.dataDir, 'media-upload.json'),
    clock,
    logger: logger.child({ part: 'media' }),
  });
  return { media, mediaSender, pictureCauses };
}

export interface PictureTaking {
  pictures: Pictures;
  /** The county's `picture` and `snapshot` commands and a flow's snapshot, each recorded. */
  requests: MediaRequests;
  stop(): Promise<void>;
}

/** Why a device gives no snapshot (not configured, not a camera, a profile without snapshot), or null. */
function cameraProblem(config: GatewayConfig, profiles: Map<string, DeviceProfile>, id: string): GatewayError | null {
  const d = config.devices.find((x) => x.id === id);
  if (!d) return new GatewayError('UNKNOWN_DEVICE', `no device "${id}"`);
  if (d.driver !== 'camera')
    return new GatewayError('NO_CAMERA', `device "${id}" is not a camera (driver ${d.driver})`);
  const profile = profiles.get(id);
  if (!profile || !('snapshot' in profile) || !profile.snapshot)
    return new GatewayError('NO_SNAPSHOT', `camera "${id}": its profile names no snapshot, so it gives no picture`);
  return null;
}

/** Pictures for camera alarms, rules' snapshots and requests, into `store`; the store's age sweep. */
export function wirePictures(
  a: AgentSide,
  parts: MediaParts,
  pipeline: EventPipeline,
  profiles: Map<string, DeviceProfile>,
): PictureTaking {
  const { logger } = a.opts;
  const store = parts.media;
  const pictures = new Pictures({
    store,
    stored: (pictureId, eventId) => {
      parts.pictureCauses.set(pictureId, eventId);
      if (parts.pictureCauses.size > CAUSES_KEPT) parts.pictureCauses.delete(parts.pictureCauses.keys().next().value!);
    },
    logger: logger.child({ part: 'media' }),
    monoMs: a.clock.monoMs,
    capture: (id, channel) => a.capture(id, channel),
    emit: (e) => pipeline.emit(e),
  });
  const { config } = a.opts;
  const requests = new MediaRequests({
    gatewayId: config.gateway.id,
    upload: config.media.upload,
    store,
    send: (id) => parts.mediaSender.request(id),
    cameraProblem: (id) => cameraProblem(config, profiles, id),
    take: (camera, channel, cause, alarm) => pictures.taken(camera, channel, cause, alarm),
    emit: (e) => pipeline.emit(e),
    monoMs: a.clock.monoMs,
  });
  const off = a.bus.subscribe((e) => pictures.onEvent(e));
  const timer = setInterval(() => {
    try {
      store.expire();
    } catch (err) {
      // A lost or read-only card: the storage watch raises its alarm; the sweep tries again next time.
      logger.warn(failure('DATA_DIR_LOST', err, { part: 'media' }), 'old pictures could not be removed');
    }
  }, EXPIRE_EVERY_MS);
  timer.unref();
  return {
    pictures,
    requests,
    async stop() {
      off();
      clearInterval(timer);
      await pictures.settled();
    },
  };
}
