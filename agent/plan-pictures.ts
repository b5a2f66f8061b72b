/**
 * The pictures in `plan`'s month (issue 19): each networked camera (driver `camera`) takes a
 * picture with every alarm, and `media.upload.mode` says which go up: `auto` and `always` send
 * the alarm pictures (the plan counts only those: a rule's snapshot is the config's, its rate
 * unknown), `on-request` and `off` send none on their own. Bytes come from the real chunker
 * (core/contracts/media-chunk.ts): a picture of the assumed size cut at `chunkBytes`, each
 * chunk's header line (chunk 0's names the whole picture) and its MQTT PUBLISH and PUBACK;
 * then `maxBytesPerDay` caps a day's chunks for the whole gateway, as the sender does.
 */
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import type { MediaConfig } from '../config/schema/media.js';
import { chunksOf, MEDIA_SUBTOPIC } from '../core/contracts/media-chunk.js';
import { mqttMessageBytes } from './plan-mqtt.js';

/** Bytes of an alarm picture when the config cannot say: a substream JPEG is tens of KB (cameras.md). */
export const ASSUMED_PICTURE_BYTES = 50_000;

export interface PicturePlan {
  /** Networked cameras (driver camera): the ones that take pictures. */
  cameras: number;
  mode: MediaConfig['upload']['mode'];
  /** Alarm pictures a day, all cameras together, and the bytes of one. */
  takenPerDay: number;
  pictureBytes: number;
  /** Pictures a month that go up (after the mode and the daily cap). */
  sentPerMonth: number;
  /** MQTT bytes a month of their chunks (PUBLISH and PUBACK), and the messages. */
  bytes: number;
  messages: number;
  /** The daily cap cut what would go (media.upload.maxBytesPerDay). */
  capped: boolean;
  /** Why none go on their own (the mode), or null. */
  why: string | null;
}

const MONTH_DAYS = 30;

/** One picture's chunk payloads as the sender cuts them, and their MQTT bytes. */
function onePicture(
  config: GatewayConfig,
  cameraId: string,
  size: number,
): { payload: number; mqtt: number; n: number } {
  const prefix = config.mqtt.topicPrefix ?? `village/${config.gateway.id}`;
  const id = randomUUID();
  const info = {
    size,
    sha256: '0'.repeat(64),
    type: 'image/jpeg' as const,
    cameraId,
    eventId: randomUUID(),
    takenAt: '2026-11-27T08:00:00.000Z',
  };
  const chunks = chunksOf(id, Buffer.alloc(size), info, config.media.upload.chunkBytes);
  const topic = `${prefix}/${MEDIA_SUBTOPIC}/${id}`;
  const v5 = config.mqtt.protocolVersion === 5;
  return {
    payload: chunks.reduce((s, c) => s + c.length, 0),
    mqtt: chunks.reduce((s, c) => s + mqttMessageBytes(topic, c.length, v5), 0),
    n: chunks.length,
  };
}

export function planPictures(config: GatewayConfig, perCameraPerDay: number, pictureBytes: number): PicturePlan {
  const cameras = config.devices.filter((d) => d.driver === 'camera');
  const { mode, maxBytesPerDay } = config.media.upload;
  const takenPerDay = cameras.length * perCameraPerDay;
  const plan: PicturePlan = {
    cameras: cameras.length,
    mode,
    takenPerDay,
    pictureBytes,
    sentPerMonth: 0,
    bytes: 0,
    messages: 0,
    capped: false,
    why: mode === 'off' ? 'media.upload.mode off' : mode === 'on-request' ? 'only when the county asks' : null,
  };
  if (cameras.length === 0 || plan.why !== null || takenPerDay === 0 || pictureBytes === 0) return plan;
  const one = onePicture(config, cameras[0]!.id, pictureBytes);
  // The sender counts chunk payloads against the day's cap, and stops for the day at it.
  const dayPayload = takenPerDay * one.payload;
  const share = maxBytesPerDay > 0 && dayPayload > maxBytesPerDay ? maxBytesPerDay / dayPayload : 1;
  plan.capped = share < 1;
  plan.sentPerMonth = takenPerDay * share * MONTH_DAYS;
  plan.bytes = plan.sentPerMonth * one.mqtt;
  plan.messages = plan.sentPerMonth * one.n;
  return plan;
}
