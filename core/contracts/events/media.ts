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

/** Who asked for a picture or a snapshot: the county by a command, or a flow (issue 19, privacy). */
const requester = {
  request: z.enum(['county', 'node-red']).describe('Who asked: a county command or a Node-RED flow'),
  command: z.string().nullable().describe("The county command's `id` (null: none given, or a flow)"),
  by: z.string().nullable().describe("Who the county says asked (the command's `by` arg), 'node-red' for a flow"),
  keyId: z.string().optional().describe('The county key that signed the command (absent: commands are not signed)'),
};

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
  z.strictObject(requester).describe('A snapshot asked for by the county or a flow'),
]);

const requested = z.strictObject({
  ...requester,
  what: z.enum(['picture', 'snapshot']).describe('A stored picture sent, or a fresh snapshot taken'),
  camera: z.string().nullable().describe('The camera asked of (for a picture: the one that took it, when known)'),
  pictureId: z.string().nullable().describe('The picture asked for, or the snapshot taken (null: none)'),
  outcome: z
    .enum(['queued', 'stored', 'refused', 'failed'])
    .describe(
      'queued: the picture goes up; stored: taken for a flow, it goes up as the upload mode says; refused: not allowed (code says why); failed: the camera gave none',
    ),
  code: z.string().nullable().describe('The error code when refused or failed'),
  bytes: z.int().min(1).nullable().describe("The picture's size when queued or stored"),
  unrecorded: z
    .int()
    .min(1)
    .optional()
    .describe('Refused requests since the last record that were not recorded each (a flood is counted, not logged)'),
});

export const mediaEvents = {
  'camera.picture': spec(
    'normal',
    z.strictObject({ picture, cause }),
    "a camera's picture was stored for an alarm, a rule's snapshot action or a request (deviceId: the camera); sent after the event that asked for it, never ahead",
  ),
  'media.requested': spec(
    'normal',
    requested,
    'privacy record: the county or a flow asked for a picture or a snapshot (who, which camera or picture, the outcome); deviceId: the camera, else the gateway',
  ),
};
