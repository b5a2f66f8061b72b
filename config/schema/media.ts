/** Pictures cameras took, kept in the data folder (agent/media): how much, how long, and how they go to the county. */
import { z } from 'zod';
import { MEDIA_LIMITS } from '../../core/contracts/media-chunk.js';
import { byteSize, intIn } from './fields.js';

/**
 * Which pictures go up to the county on their own (agent/media/media-sender.ts): `auto` the
 * alarm pictures, `always` all, `on-request` none until the county asks, `off` none.
 */
export const UPLOAD_MODES = ['auto', 'always', 'on-request', 'off'] as const;

export const UPLOAD_DEFAULTS = {
  mode: 'auto' as (typeof UPLOAD_MODES)[number],
  chunkBytes: 4096,
  maxBytesPerDay: 20 * 1024 * 1024,
};

const uploadSchema = z
  .strictObject({
    mode: z
      .enum(UPLOAD_MODES)
      .default(UPLOAD_DEFAULTS.mode)
      .describe('auto: alarm pictures; always: every picture; on-request: only what the county asks for; off: none'),
    chunkBytes: byteSize
      .pipe(z.number().int().min(512).max(MEDIA_LIMITS.maxChunkBytes))
      .default(UPLOAD_DEFAULTS.chunkBytes)
      .describe('Bytes of picture in one MQTT message: an alarm waits behind at most one of them'),
    maxBytesPerDay: byteSize
      .pipe(z.number().int().min(0))
      .default(UPLOAD_DEFAULTS.maxBytesPerDay)
      .describe('Picture bytes sent per UTC day at most (the data plan); 0: no cap'),
  })
  .default(UPLOAD_DEFAULTS)
  .describe('Pictures to the county: chunks on <prefix>/media/<pictureId>, only while no event waits');

export const MEDIA_DEFAULTS = {
  maxBytes: 64 * 1024 * 1024,
  maxAgeDays: 7,
  maxPictureBytes: 2 * 1024 * 1024,
  minFreeBytes: 32 * 1024 * 1024,
  upload: UPLOAD_DEFAULTS,
};

export const mediaSchema = z
  .strictObject({
    maxBytes: byteSize
      .pipe(
        z
          .number()
          .int()
          .min(1024 * 1024),
      )
      .default(MEDIA_DEFAULTS.maxBytes)
      .describe(
        'All pictures together at most this size; past it the oldest go: non-alarm ones first, then alarm ones the county has',
      ),
    maxAgeDays: intIn(1, 365)
      .default(MEDIA_DEFAULTS.maxAgeDays)
      .describe('Privacy: no picture is kept longer than this, alarm pictures included'),
    maxPictureBytes: byteSize
      .pipe(
        z
          .number()
          .int()
          .min(16 * 1024),
      )
      .default(MEDIA_DEFAULTS.maxPictureBytes)
      .describe('A bigger "picture" is refused (a hostile or broken camera)'),
    minFreeBytes: byteSize
      .pipe(z.number().int().min(0))
      .default(MEDIA_DEFAULTS.minFreeBytes)
      .describe(
        "A picture is stored only while the card keeps this much free after it: the outbox's events come first",
      ),
    upload: uploadSchema,
  })
  .default(MEDIA_DEFAULTS)
  .describe('Camera pictures in dataDir/media');

export type MediaConfig = z.infer<typeof mediaSchema>;
