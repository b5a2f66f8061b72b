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

const wired = z.strictObject(wiredInput);
const wiredOrReceived = z.union([wired, receivedData]);
const button = z.union([
  z.strictObject({
    ...wiredInput,
    led: z.string().optional().describe('Output of the same device lit when help is coming'),
  }),
  receivedData,
]);
const camera = z.union([z.strictObject({ ...wiredInput, snapshotUrl: z.string().optional() }), receivedData]);

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
  'camera.motion': spec('high', camera, "a camera's motion alarm output went active"),
  'camera.motion_ended': spec('normal', camera, "the camera's motion alarm output went idle"),
  'camera.tamper': spec('high', camera, "a camera's tamper alarm output went active"),
  'camera.tamper_ended': spec('normal', camera, "the camera's tamper alarm output went idle"),
  'camera.video_lost': spec('high', camera, "a camera's video-lost alarm output went active"),
  'camera.video_lost_ended': spec('normal', camera, "the camera's video-lost alarm output went idle"),
};
