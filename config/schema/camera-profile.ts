/**
 * A networked camera's profile: which protocol its brand speaks and how its vendor event
 * codes map to the catalogue's `camera.*` types. Adding a brand (or an OEM of one) is adding
 * a file like config/profiles/hikvision-isapi.yaml.
 */
import { z } from 'zod';
import { CAMERA_PROTOCOLS, CAMERA_PULSE_EVENTS, CAMERA_STATE_EVENTS } from '../../core/contracts/events/catalogue.js';
import { intIn } from './fields.js';

export { CAMERA_PROTOCOLS };

/** ONVIF: the SimpleItem of the message's Data that carries the state (IsMotion, State, LogicalState). */
const item = z
  .string()
  .min(1)
  .optional()
  .describe('ONVIF: the Data SimpleItem whose value is the state ("true" is on); absent: the first Data item');

const cameraEvent = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('state'),
    type: z.enum(CAMERA_STATE_EVENTS),
    alarm: z.boolean().default(false).describe('An alarm: the county and the rules treat it as one'),
    item,
  }),
  z.strictObject({
    kind: z.literal('pulse'),
    type: z.enum(CAMERA_PULSE_EVENTS),
    alarm: z.boolean().default(false),
    item,
  }),
]);

export const cameraProfileFields = {
  transport: z.literal('camera'),
  protocol: z.enum(CAMERA_PROTOCOLS),
  defaults: z
    .strictObject({
      port: intIn(1, 65535).default(80),
      idleTimeoutSec: intIn(2, 600).default(40).describe('No part (event or heartbeat) for this long: reconnect'),
      heartbeatSec: intIn(1, 60).default(10).describe('Dahua: the heartbeat asked for in the attach URL'),
      debounceSec: intIn(0, 3600).default(10).describe('One event per type, channel and region this often at most'),
      maxPartBytes: intIn(1024, 16 * 1024 * 1024)
        .default(256 * 1024)
        .describe('The largest part (ISAPI/CGI) or SOAP answer (ONVIF) read; a longer one is cut and counted'),
      stateTimeoutSec: intIn(10, 86400)
        .default(600)
        .describe(
          'A state (motion, tamper) not repeated within this long ends with reason timeout: a camera that never sends the end does not leave it on forever',
        ),
    })
    .prefault({}),
  onvif: z
    .strictObject({
      devicePath: z
        .string()
        .regex(/^\/\S*$/)
        .default('/onvif/device_service'),
      eventsPath: z
        .string()
        .regex(/^\/\S*$/)
        .default('/onvif/event_service'),
      mediaPath: z
        .string()
        .regex(/^\/\S*$/)
        .default('/onvif/media_service'),
      subscriptionSec: intIn(60, 600)
        .default(600)
        .describe('InitialTerminationTime asked for; renewed when four fifths have passed'),
      pullTimeoutSec: intIn(1, 60).default(20).describe('PullMessages long-poll (kept under half the idle timeout)'),
      messageLimit: intIn(1, 1000).default(100),
    })
    .prefault({})
    .describe('ONVIF PullPoint: the service paths and the subscription timing (ignored by the other protocols)'),
  snapshot: z
    .strictObject({
      path: z
        .string()
        .regex(/^\/[^\s]*$/)
        .optional()
        .describe(
          'The picture URL on the camera; {channel} is the channel asked for. A substream or a small size, so a picture is tens of KB. ONVIF without it: GetSnapshotUri, asked once',
        ),
      timeoutSec: intIn(1, 120).default(10).describe('A picture not whole within this long is given up'),
      maxBytes: intIn(16 * 1024, 16 * 1024 * 1024)
        .default(1024 * 1024)
        .describe('A longer answer is cut while it is read (never buffered whole)'),
    })
    .optional()
    .describe('How the camera gives a picture; absent: it gives none (a snapshot asked of it fails)'),
  events: z
    .record(z.string().min(1), cameraEvent)
    .describe(
      'Vendor event code (matched without case; ONVIF: the topic without prefixes, e.g. RuleEngine/CellMotionDetector/Motion) -> the camera.* type it is, and whether it is an alarm',
    ),
};
