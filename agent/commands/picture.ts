/**
 * `picture {pictureId, by?}` and `snapshot {camera, channel?, by?}`: the county asks for a
 * stored picture, or a fresh one from a camera (agent/media/media-requests.ts: rate-limited,
 * refused under media.upload.mode off, recorded as media.requested). `by` names the officer or
 * system asking, for the record. A picture id is a UUID and nothing else: it only names an
 * entry of the store's index, never a path.
 */
import { z } from 'zod';
import { nameSchema } from '../../core/contracts/envelope.js';
import type { MediaRequests } from '../media/media-requests.js';
import type { CommandContext, CommandHandler } from '../uplink/commands.js';
import { by } from './by.js';

const pictureArgs = z.strictObject({
  pictureId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, {
    error: 'must be a picture id (a UUID, as camera.picture names it)',
  }),
  by,
});

const snapshotArgs = z.strictObject({
  camera: nameSchema,
  channel: z.int().min(1).max(256).optional(),
  by,
});

const county = (ctx: CommandContext, who: string | undefined) => ({
  request: 'county' as const,
  command: ctx.id,
  by: who ?? null,
  ...(ctx.keyId !== null ? { keyId: ctx.keyId } : {}),
});

export const pictureCommand = (requests: MediaRequests): CommandHandler<typeof pictureArgs> => ({
  args: pictureArgs,
  run: ({ pictureId, by: who }, ctx) => requests.picture(county(ctx, who), pictureId),
});

export const snapshotCommand = (requests: MediaRequests): CommandHandler<typeof snapshotArgs> => ({
  args: snapshotArgs,
  // A fresh picture is taken only when someone asks now: a request that waited a day on the broker is refused.
  actuation: true,
  run: ({ camera, channel, by: who }, ctx) => requests.snapshot(county(ctx, who), camera, channel ?? 1),
});
