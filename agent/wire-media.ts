/**
 * The camera pictures' parts: the store in dataDir/media and the sender that uploads them as
 * the drain's idle lane (made before the uplink, which takes the sender).
 */
import { join } from 'node:path';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { Clock } from '../core/kernel/clock.js';
import type { Logger } from 'pino';
import { MediaStore } from './media/media-store.js';
import { MediaSender } from './media/media-sender.js';
import type { Outbox } from './outbox/outbox.js';
import { uplinkTopics } from './uplink/uplink.js';

export interface MediaParts {
  media: MediaStore;
  mediaSender: MediaSender;
}

export function wireMedia(config: GatewayConfig, outbox: Outbox, clock: Clock, logger: Logger): MediaParts {
  const media = new MediaStore({
    dir: join(config.dataDir, 'media'),
    config: config.media,
    clock,
    reserveHeld: () => outbox.reserve.isHeld,
  });
  const mediaSender = new MediaSender({
    store: media,
    upload: config.media.upload,
    prefix: uplinkTopics(config.mqtt, config.gateway.id).prefix,
    stateFile: join(config.dataDir, 'media-upload.json'),
    clock,
    logger: logger.child({ part: 'media' }),
  });
  return { media, mediaSender };
}
