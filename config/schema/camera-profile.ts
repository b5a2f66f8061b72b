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
  events: z
    .record(z.string().min(1), cameraEvent)
    .describe('Vendor event code (matched without case) -> the camera.* type it is, and whether it is an alarm'),
};
