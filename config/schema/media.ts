/** Pictures cameras took for alarms, kept in the data folder (agent/media): how much, how long. Joins the gateway config (`media`) with the camera drivers that fill it. */
import { z } from 'zod';
import { byteSize, intIn } from './fields.js';

export const MEDIA_DEFAULTS = {
  maxBytes: 64 * 1024 * 1024,
  maxAgeDays: 7,
  maxPictureBytes: 2 * 1024 * 1024,
  minFreeBytes: 32 * 1024 * 1024,
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
      .describe('All pictures together at most this size; past it the oldest go, non-alarm ones first'),
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
  })
  .default(MEDIA_DEFAULTS)
  .describe('Camera pictures in dataDir/media');

export type MediaConfig = z.infer<typeof mediaSchema>;
