/**
 * Inputs: doors, panic buttons, camera alarm outputs, plain inputs. A wired input (a Modbus
 * input role) and a radio sensor (a serial receiver whose profile maps a record to the same
 * type) both send `door.opened` or `alarm.pressed`, so those payloads are either one: rules
 * match the type whichever way the door is wired. The two are told apart by `line`, which
 * only a received record has.
 */
import { z } from 'zod';
import { receivedData, spec, wiredInput } from './define.js';

/** The events a camera-alarm input can be set to report (config `event`); each ends with `<event>_ended`. */
export const CAMERA_ALARM_EVENTS = ['camera.motion', 'camera.tamper', 'camera.video_lost'] as const;
export type CameraAlarmEvent = (typeof CAMERA_ALARM_EVENTS)[number];

/** What a camera profile may map a vendor code to: stateful ones end with `<type>_ended`, pulses never do. */
export const CAMERA_STATE_EVENTS = [...CAMERA_ALARM_EVENTS, 'camera.alarm_input'] as const;
export const CAMERA_PULSE_EVENTS = ['camera.line_crossed', 'camera.intrusion'] as const;
/** How a networked camera tells its events: Hikvision ISAPI, Dahua CGI, or ONVIF PullPoint. */
export const CAMERA_PROTOCOLS = ['hikvision-isapi', 'dahua-cgi', 'onvif'] as const;
export type CameraStreamEvent = (typeof CAMERA_STATE_EVENTS)[number] | (typeof CAMERA_PULSE_EVENTS)[number];

const wired = z.strictObject(wiredInput);
const wiredOrReceived = z.union([wired, receivedData]);
const button = z.union([
  z.strictObject({
    ...wiredInput,
    led: z.string().optional().describe('Output of the same device lit when help is coming'),
  }),
  receivedData,
]);
/**
 * What a networked camera's own analytics say (drivers/camera): the protocol and channel it
 * came on, the camera's region or rule, and the camera's clock as it wrote it. The envelope's
 * `ts` stays the gateway's: camera clocks drift and reset after power cuts.
 */
const streamed = z.strictObject({
  protocol: z.enum(CAMERA_PROTOCOLS).describe('How the camera told us'),
  code: z.string().describe("The vendor's event code (VMD, linedetection, CrossLineDetection, AlarmLocal)"),
  channel: z.int().min(1).nullable().describe('Video channel (1-based); for an alarm input, the input number'),
  region: z.string().nullable().describe("The camera's region or rule name, when it sends one"),
  cameraTime: z.string().nullable().describe("The camera's own time of the event, as the camera wrote it"),
  alarm: z.boolean().describe('The profile counts this event as an alarm'),
  count: z
    .int()
    .min(1)
    .optional()
    .describe('Reports the camera sent since the last event of this kind (repeats and a storm, debounced)'),
  suppressed: z.int().min(0).optional().describe('Of those, the ones not sent on their own (storm debounce)'),
  reason: z
    .enum(['timeout', 'lost'])
    .optional()
    .describe(
      "Only on an _ended the camera did not send: timeout, not repeated within the state timeout (stateTimeoutSec); lost, the camera's stream was lost while it was on",
    ),
});
const camera = z.union([z.strictObject({ ...wiredInput, snapshotUrl: z.string().optional() }), receivedData, streamed]);

export const inputEvents = {
  'door.opened': spec('high', wiredOrReceived, 'a door contact opened (also its state at start)'),
  'door.closed': spec('high', wiredOrReceived, 'a door contact closed (also its state at start)'),
  'alarm.pressed': spec('critical', button, 'a panic button was pressed (also one held at start)'),
  'alarm.released': spec('normal', wiredOrReceived, 'a panic button was let go'),
  'alarm.ack_key': spec(
    'high',
    wiredOrReceived,
    "a technician's key switch was turned: every active alert is acknowledged",
  ),
  'input.changed': spec('normal', wiredOrReceived, 'a plain input changed (also its state at start)'),
  'camera.motion': spec(
    'high',
    camera,
    'a camera reports motion (its alarm output wired to an input, or its own analytics)',
  ),
  'camera.motion_ended': spec('normal', camera, "the camera's motion ended"),
  'camera.tamper': spec('high', camera, 'a camera reports tampering (covered, moved, blinded)'),
  'camera.tamper_ended': spec('normal', camera, "the camera's tamper state ended"),
  'camera.video_lost': spec('high', camera, 'a camera reports its video lost'),
  'camera.video_lost_ended': spec('normal', camera, "the camera's video is back"),
  'camera.line_crossed': spec('high', streamed, "a camera's line-crossing rule fired (a pulse: no _ended)"),
  'camera.intrusion': spec('high', streamed, "a camera's intrusion (region entrance) rule fired (a pulse: no _ended)"),
  'camera.alarm_input': spec('high', streamed, "a camera's own alarm input went active"),
  'camera.alarm_input_ended': spec('normal', streamed, "the camera's alarm input went idle"),
};
