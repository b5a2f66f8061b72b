/**
 * `village-gateway plan --config FILE`: what a config will cost on the SIM each month.
 *
 * Events a month per kind come from the config: a synthetic device's rates, a Modbus or serial
 * device's inputs and sensors by role (at the assumed rates below: a door is opened when people
 * open it, not when it is polled, so pollMs does not make uplink traffic), and the health
 * interval. Bytes come from the real encoders, not from a formula: representative envelopes of
 * each kind (random readings, real UUIDv7 ids) are serialised as the agent would, and the
 * compact batches of one linger window (rate x lingerMs events, at most batch.maxEvents) are
 * encoded and compressed with the config's settings. MQTT framing (PUBLISH header, topic,
 * packet id, MQTT 5 properties) and the broker's 4-byte PUBACK are counted; TCP/IP headers are
 * estimated on a line of their own (two segments of 52 bytes a message), and keepalive pings
 * (4 bytes a keepalive when idle) are left out.
 *
 * The JSON column is today's behaviour at village rates: one envelope a message (no backlog).
 */
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { inputEventDeviceId } from '../config/schema/devices.js';
import type { GatewayEvent, Priority } from '../core/contracts/event.js';
import { batchContentType, encodeBatchPayload } from '../core/contracts/wire-payload.js';
import { uuidv7 } from '../core/kernel/uuidv7.js';
import { topicsFor } from './uplink/topics.js';
import { mqttMessageBytes } from './plan-mqtt.js';
import { ASSUMED_PICTURE_BYTES, planPictures, type PicturePlan } from './plan-pictures.js';
import { healthSample } from './plan-health.js';

export { mqttMessageBytes } from './plan-mqtt.js';

/** Rates the config cannot say: how often people and sensors do things. */
export interface PlanAssumptions {
  /** Openings a day of each door (an opening is door.opened + door.closed). */
  doorOpeningsPerDay: number;
  /** Presses a day of each panic button (alarm.pressed + alarm.released). */
  pressesPerDay: number;
  /** Readings a minute of each radio sensor heard by a serial receiver. */
  readingsPerMin: number;
  /** Alarms a day of each camera output or motion sensor (the event + its _ended). */
  cameraAlarmsPerDay: number;
  /** Changes a day of each plain input. */
  inputChangesPerDay: number;
  /**
   * Alarm pictures a day of each networked camera (driver camera): its alarm-class event
   * (line crossing, intrusion), the picture taken with it, and `camera.picture` naming it.
   */
  alarmPicturesPerDay: number;
  /** Bytes of one picture (a substream JPEG). */
  pictureBytes: number;
}

export const DEFAULT_ASSUMPTIONS: PlanAssumptions = {
  doorOpeningsPerDay: 10,
  pressesPerDay: 0.2,
  readingsPerMin: 1,
  cameraAlarmsPerDay: 5,
  inputChangesPerDay: 10,
  alarmPicturesPerDay: 3,
  pictureBytes: ASSUMED_PICTURE_BYTES,
};

const MONTH_SEC = 30 * 86400;
/** Two TCP segments a message (the PUBLISH, the PUBACK), 20 B IPv4 + 32 B TCP with timestamps each. */
export const TCPIP_PER_MESSAGE = 2 * 52;

interface Kind {
  type: string;
  priority: Priority;
  deviceId: string;
  perSec: number;
  data: (rnd: () => number) => Record<string, unknown>;
  health?: true;
}

export interface PlanRow {
  type: string;
  priority: Priority;
  devices: number;
  eventsPerMonth: number;
  /** Bytes a month as JSON, one envelope a message (today). */
  jsonBytes: number;
  /** Bytes a month with the config's wire settings. */
  wireBytes: number;
  /** Messages a month with the config's wire settings (a batch of lingered events counts once). */
  wireMessages: number;
  /** How this kind travels with the config's settings. */
  how: string;
}

export interface Plan {
  rows: PlanRow[];
  eventsPerMonth: number;
  jsonBytes: number;
  wireBytes: number;
  jsonMessages: number;
  wireMessages: number;
  /** Events a compact batch holds at these rates (null: json). */
  batchEvents: number | null;
  format: 'json' | 'compact';
  /** The cameras' pictures on the media topic (not in the bytes above: plan-report.ts adds them to the total). */
  pictures: PicturePlan;
}

/** A small deterministic generator: the same config gives the same plan. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const perDay = (n: number) => n / 86400;

const CAMERA_EVENT_DATA = {
  protocol: 'hikvision-isapi',
  code: 'VMD',
  channel: 1,
  region: '1',
  cameraTime: '2026-11-27T08:00:00+08:00',
  alarm: false,
  count: 1,
};

const PICTURE_DATA = {
  id: '01938a6e-7c2b-7000-8000-0123456789ab',
  bytes: ASSUMED_PICTURE_BYTES,
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  takenAt: '2026-11-27T08:00:00.000Z',
  channel: 1,
  alarm: true,
};

function kindsOf(config: GatewayConfig, a: PlanAssumptions): Kind[] {
  const kinds: Kind[] = [];
  const add = (k: Kind) => k.perSec > 0 && kinds.push(k);
  const edge = (deviceId: string, type: string, priority: Priority, perSec: number, extra = {}) =>
    add({ deviceId, type, priority, perSec, data: () => ({ input: 'di1', active: type.endsWith('ed'), ...extra }) });
  const reading = (deviceId: string, perSec: number) => {
    const sensorId = 1000 + (kinds.length % 9000); // a sensor's radio id is fixed
    add({
      deviceId,
      type: 'sensor.reading',
      priority: 'normal',
      perSec,
      // An rtl_433-style record: what a radio sensor heard by a serial receiver says.
      data: (r) => ({
        model: 'Acurite-Tower',
        id: sensorId,
        channel: 'A',
        battery_ok: 1,
        temperature_C: Math.round((10 + r() * 20) * 10) / 10,
        humidity: Math.round(30 + r() * 60),
        line: 'rf',
      }),
    });
  };
  const role = (deviceId: string, r: string) => {
    if (r === 'door') {
      edge(deviceId, 'door.opened', 'high', perDay(a.doorOpeningsPerDay));
      edge(deviceId, 'door.closed', 'high', perDay(a.doorOpeningsPerDay));
    } else if (r === 'alarm-button') {
      edge(deviceId, 'alarm.pressed', 'critical', perDay(a.pressesPerDay));
      edge(deviceId, 'alarm.released', 'normal', perDay(a.pressesPerDay));
    } else if (r === 'camera-alarm' || r === 'camera' || r === 'motion') {
      edge(deviceId, 'camera.motion', 'high', perDay(a.cameraAlarmsPerDay));
      edge(deviceId, 'camera.motion_ended', 'normal', perDay(a.cameraAlarmsPerDay));
    } else if (r === 'input') edge(deviceId, 'input.changed', 'normal', perDay(a.inputChangesPerDay));
    else if (r === 'sensor') reading(deviceId, a.readingsPerMin / 60);
  };
  for (const d of config.devices) {
    if (d.driver === 'synthetic') {
      edge(d.id, 'door.opened', 'high', d.rates.doorPerSec / 2);
      edge(d.id, 'door.closed', 'high', d.rates.doorPerSec / 2);
      edge(d.id, 'alarm.pressed', 'critical', d.rates.buttonPerSec);
      const pad = 'x'.repeat(d.telemetryBytes);
      add({
        deviceId: d.id,
        type: 'sensor.telemetry',
        priority: 'normal',
        perSec: d.rates.telemetryPerSec,
        data: (r) => ({ n: Math.floor(r() * 1e6), tempC: 21.5, pad }),
      });
    } else if (d.driver === 'modbus') {
      for (const [input, binding] of Object.entries(d.inputs))
        role(inputEventDeviceId(d.id, input, binding), binding.role);
    } else if (d.driver === 'serial') {
      for (const s of Object.values(d.sensors)) role(s.id, s.role);
    } else if (d.driver === 'camera') {
      // A camera's own analytics: counted as its alarms a day, in the payload a networked camera sends.
      const data = () => ({ ...CAMERA_EVENT_DATA });
      for (const [type, priority] of [
        ['camera.motion', 'high'],
        ['camera.motion_ended', 'normal'],
      ] as const)
        add({ deviceId: d.id, type, priority, perSec: perDay(a.cameraAlarmsPerDay), data });
      // Each alarm picture: the alarm that asked for it, then camera.picture naming it (agent/media/pictures.ts).
      const alarm = () => ({ ...CAMERA_EVENT_DATA, code: 'fielddetection', alarm: true });
      add({
        deviceId: d.id,
        type: 'camera.intrusion',
        priority: 'high',
        perSec: perDay(a.alarmPicturesPerDay),
        data: alarm,
      });
      add({
        deviceId: d.id,
        type: 'camera.picture',
        priority: 'normal',
        perSec: perDay(a.alarmPicturesPerDay),
        data: () => ({
          picture: PICTURE_DATA,
          cause: { event: uuidv7(Date.UTC(2026, 10, 27, 8)), type: 'camera.intrusion' },
        }),
      });
    }
  }
  add({
    deviceId: config.gateway.id,
    type: 'gateway.health',
    priority: 'low',
    perSec: 1 / config.health.intervalSec,
    health: true,
    data: healthSample,
  });
  return kinds;
}

/** Representative stored bodies of a kind, as the event factory writes them. */
const BOOT_ID = randomUUID();

function bodies(config: GatewayConfig, k: Kind, n: number, r: () => number, spacingMs: number): string[] {
  const bootId = BOOT_ID;
  let t = Date.UTC(2026, 10, 27, 8);
  let mono = 86_400_000 * r();
  return Array.from({ length: n }, (_, i) => {
    t += Math.max(1, Math.round(spacingMs));
    mono = Math.round((mono + spacingMs + r()) * 1000) / 1000;
    const e: GatewayEvent = {
      id: uuidv7(t),
      seq: 1_000_000 + i * 7,
      bootId,
      gatewayId: config.gateway.id,
      deviceId: k.deviceId,
      type: k.type,
      priority: k.priority,
      ts: new Date(t).toISOString(),
      monoMs: mono,
      clockSynced: true,
      data: k.data(r),
    };
    return JSON.stringify(e);
  });
}

export function planConfig(config: GatewayConfig, assumptions: PlanAssumptions = DEFAULT_ASSUMPTIONS): Plan {
  const { wire, batch, protocolVersion, topicAliases } = config.mqtt;
  const v5 = protocolVersion === 5;
  const alias = v5 && topicAliases;
  const topics = topicsFor(config.mqtt.topicPrefix ?? `village/${config.gateway.id}`);
  const kinds = kindsOf(config, assumptions);
  const r = random(7);
  const compact = wire.format === 'compact';
  // Health in the batches (mqtt.wire.health: batch) or alone on its topic.
  const batched = (k: Kind) => compact && k.priority !== 'critical' && (!k.health || wire.health === 'batch');
  // Normal and low events share linger windows: one batch holds a window's worth of all of them.
  const lingered = kinds.filter((k) => batched(k) && (k.priority === 'normal' || k.priority === 'low'));
  const lingerRate = lingered.reduce((s, k) => s + k.perSec, 0);
  const batchEvents = compact
    ? Math.max(1, Math.min(batch.maxEvents, Math.round((lingerRate * wire.lingerMs) / 1000)))
    : null;
  // One representative window: events of each lingered kind in proportion to its rate.
  const perLingered = new Map<Kind, number>();
  if (compact && lingerRate > 0) {
    const n = batchEvents!;
    const mix: string[] = [];
    for (const k of lingered) {
      const share = Math.max(1, Math.round((n * k.perSec) / lingerRate));
      mix.push(...bodies(config, k, share, r, Math.min(1000 / k.perSec, 3_600_000)));
    }
    const payload = encodeBatchPayload(config.gateway.id, mix, wire.compression).length;
    const per =
      mqttMessageBytes(topics.eventsBatch, payload, v5, batchContentType(wire.compression), alias) / mix.length;
    for (const k of lingered) perLingered.set(k, per);
  }
  const rows: PlanRow[] = kinds.map((k) => {
    const events = k.perSec * MONTH_SEC;
    const sample = bodies(config, k, 20, r, 1000 / k.perSec);
    const topic = k.health ? topics.health : topics.events;
    const jsonPer =
      sample.reduce((s, b) => s + mqttMessageBytes(topic, Buffer.byteLength(b), v5, undefined, alias), 0) /
      sample.length;
    let wirePer = jsonPer;
    let how = k.health ? 'JSON on /health' : 'JSON, alone';
    let messages = events;
    if (batched(k)) {
      if (perLingered.has(k)) {
        wirePer = perLingered.get(k)!;
        how = `compact, ~${batchEvents} a batch`;
        messages = events / batchEvents!;
      } else {
        // High: never lingered; counted as a batch of one (it may take waiting rows along: then less).
        const one = sample.map((b) => encodeBatchPayload(config.gateway.id, [b], wire.compression).length);
        wirePer =
          one.reduce(
            (s, p) => s + mqttMessageBytes(topics.eventsBatch, p, v5, batchContentType(wire.compression), alias),
            0,
          ) / one.length;
        how = 'compact, alone';
      }
    }
    return {
      type: k.type,
      priority: k.priority,
      devices: 1,
      eventsPerMonth: events,
      jsonBytes: events * jsonPer,
      wireBytes: events * wirePer,
      wireMessages: messages,
      how,
    };
  });
  // One row per type and priority (devices counted).
  const merged = new Map<string, PlanRow>();
  for (const row of rows) {
    const key = `${row.type}/${row.priority}/${row.how}`;
    const m = merged.get(key);
    if (!m) merged.set(key, { ...row });
    else {
      m.devices += 1;
      m.eventsPerMonth += row.eventsPerMonth;
      m.jsonBytes += row.jsonBytes;
      m.wireBytes += row.wireBytes;
      m.wireMessages += row.wireMessages;
    }
  }
  const list = [...merged.values()].sort((x, y) => y.wireBytes - x.wireBytes);
  const sum = (f: (r: PlanRow) => number) => list.reduce((s, row) => s + f(row), 0);
  const eventsPerMonth = sum((row) => row.eventsPerMonth);
  return {
    rows: list,
    eventsPerMonth,
    jsonBytes: sum((row) => row.jsonBytes),
    wireBytes: sum((row) => row.wireBytes),
    jsonMessages: eventsPerMonth,
    wireMessages: sum((row) => row.wireMessages),
    batchEvents,
    format: wire.format,
    pictures: planPictures(config, assumptions.alarmPicturesPerDay, assumptions.pictureBytes),
  };
}
