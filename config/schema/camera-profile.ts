/**
 * A networked camera's profile: which protocol its brand speaks and how its vendor event
 * codes map to the catalogue's `camera.*` types. Adding a brand (or an OEM of one) is adding
 * a file like config/profiles/hikvision-isapi.yaml.
 */
import { z } from 'zod';
import { CAMERA_PULSE_EVENTS, CAMERA_STATE_EVENTS } from '../../core/contracts/events/catalogue.js';
import { intIn } from './fields.js';

export const CAMERA_PROTOCOLS = ['hikvision-isapi', 'dahua-cgi'] as const;

const cameraEvent = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('state'),
    type: z.enum(CAMERA_STATE_EVENTS),
    alarm: z.boolean().default(false).describe('An alarm: the county and the rules treat it as one'),
  }),
  z.strictObject({
    kind: z.literal('pulse'),
    type: z.enum(CAMERA_PULSE_EVENTS),
    alarm: z.boolean().default(false),
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
      maxPartBytes: intIn(1024, 16 * 1024 * 1024).default(256 * 1024),
    })
    .prefault({}),
  snapshot: z
    .strictObject({
      path: z
        .string()
        .regex(/^\/[^\s]*$/)
        .describe(
          'The picture URL on the camera; {channel} is the channel asked for. A substream or a small size, so a picture is tens of KB',
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
    .describe('Vendor event code (matched without case) -> the camera.* type it is, and whether it is an alarm'),
};
