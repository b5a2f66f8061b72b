/**
 * Pictures: a camera's picture taken for an alarm-class camera event or a rule's `snapshot`
 * action, stored in the gateway's media store (agent/media). The event names the picture;
 * the picture's bytes travel on their own (issue 19, item 4), never ahead of an alarm.
 */
import { z } from 'zod';
import { spec } from './define.js';

const picture = z.strictObject({
  id: z.string().describe("The picture's id in the gateway's media store (a UUIDv7)"),
  bytes: z.int().min(1).describe('Its size in bytes'),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe("The SHA-256 of the JPEG's bytes, hex"),
  takenAt: z.int().describe("Wall-clock ms the gateway stored it (the camera's clock is not trusted)"),
  channel: z.int().min(1).describe('The video channel pictured (1-based)'),
  alarm: z.boolean().describe('Taken for an alarm: the media store keeps it before other pictures'),
});

const cause = z.union([
  z.strictObject({
    event: z.string().describe('The id of the camera event that asked for it'),
    type: z.string().describe('Its type (camera.intrusion, camera.line_crossed, ...)'),
  }),
  z.strictObject({
    rule: z.string().describe('The rule whose `snapshot` action asked for it'),
    event: z.string().nullable().describe('The id of the event that fired the rule, when one did'),
    type: z.string().nullable().describe('Its type'),
  }),
]);

export const mediaEvents = {
  'camera.picture': spec(
    'normal',
    z.strictObject({ picture, cause }),
    "a camera's picture was stored for an alarm or a rule's snapshot action (deviceId: the camera); sent after the event that asked for it, never ahead",
  ),
};
