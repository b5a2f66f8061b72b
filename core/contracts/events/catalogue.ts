/**
 * The event catalogue: every event type the gateway's own code emits, with its default
 * priority and the zod schema of its `data`. Producers are checked against it by tsc (an
 * `EventInput` of a catalogued type must carry that type's payload), the event factory
 * refuses a payload that does not match it (but keeps an alarm-class event, flagged
 * `payloadInvalid: true`: an alarm is never dropped for its shape), the JSON Schemas under config/schemas/events/
 * and docs/county.md's event table are generated from it, and consumers read typed payloads
 * through `isEvent` or the bus's `on`.
 *
 * Profile events. A serial receiver's profile (config/profiles/*.yaml) maps decoded records
 * to event types of its own choosing (`sensor.signal`, `motion.detected`, whatever a new
 * brand needs): adding a brand is adding a profile, never code, so those types cannot all be
 * listed here. A type a profile declares is one of two things:
 * - a catalogued type (`door.opened`, `alarm.pressed`): its payload must match the entry,
 *   whose schema accepts a decoded record for exactly that reason (inputs.ts), and profile
 *   validation refuses a catalogued type whose payload a receiver cannot produce
 *   (`profileMayDeclare`), so a profile cannot pass itself off as `gateway.started`;
 * - any other type: a "profile event", checked only against the envelope (a dotted type,
 *   a JSON object as `data`). Code names such a type through `profileEventType`, so a typo
 *   in a type written in code is a compile error rather than a new event type.
 */
import type { z } from 'zod';
import type { GatewayEvent, Priority } from '../envelope.js';
import { alarmEvents } from './alarms.js';
import { commandEvents } from './commands.js';
import type { EventSpec } from './define.js';
import { deviceEvents } from './devices.js';
import { gatewayEvents } from './gateway.js';
import { inputEvents } from './inputs.js';
import { mediaEvents } from './media.js';
import { noderedEvents } from './nodered.js';
import { sensorEvents } from './sensors.js';

export {
  CAMERA_ALARM_EVENTS,
  CAMERA_PROTOCOLS,
  CAMERA_PULSE_EVENTS,
  CAMERA_STATE_EVENTS,
  type CameraAlarmEvent,
  type CameraStreamEvent,
} from './inputs.js';
export type { EventSpec } from './define.js';

export const EVENT_CATALOGUE = {
  ...inputEvents,
  ...alarmEvents,
  ...deviceEvents,
  ...sensorEvents,
  ...gatewayEvents,
  ...noderedEvents,
  ...mediaEvents,
  ...commandEvents,
};

export type EventType = keyof typeof EVENT_CATALOGUE;
/** The payload of a catalogued event type. */
export type EventData<T extends EventType> = z.infer<(typeof EVENT_CATALOGUE)[T]['data']>;

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE).sort() as EventType[];

export const isCatalogued = (type: string): type is EventType => Object.hasOwn(EVENT_CATALOGUE, type);

/** The entry of a catalogued type; undefined for a profile event. */
export const eventSpec = (type: string): EventSpec | undefined =>
  isCatalogued(type) ? EVENT_CATALOGUE[type] : undefined;

declare const profileEvent: unique symbol;
/** A type named by a profile (or a test), not by the catalogue: see the header. */
export type ProfileEventType = string & { readonly [profileEvent]: true };
export const profileEventType = (type: string): ProfileEventType => type as ProfileEventType;

/**
 * Whether a profile may map records to this type: any type the catalogue does not know, or
 * a catalogued one whose payload can be a decoded record (doors, buttons, cameras).
 */
export function profileMayDeclare(type: string): boolean {
  const s = eventSpec(type);
  return !s || s.data.safeParse({ line: 'receiver' }).success;
}

/** What a producer passes to emit for a catalogued type (its `priority` is usually the entry's default). */
export type CataloguedEventInput<T extends EventType = EventType> = {
  [K in T]: { deviceId: string; type: K; priority: Priority; data: EventData<K> };
}[T];

/** What a producer passes to emit for a profile event: any JSON object as data. */
export interface ProfileEventInput {
  deviceId: string;
  type: ProfileEventType;
  priority: Priority;
  data?: Record<string, unknown>;
}

/** What a producer supplies; the agent fills in identity, ordering and time. */
export type EventInput = CataloguedEventInput | ProfileEventInput;

/** An envelope whose type is `T`, with its payload typed. */
export type EventOf<T extends EventType> = Omit<GatewayEvent, 'type' | 'data'> & { type: T; data: EventData<T> };

/**
 * Narrows an event (an envelope, or a cause an alert keeps) to one catalogued type. Sound for
 * what the event factory made: it refused any catalogued type whose payload did not match,
 * except an alarm-class event, which carries `payloadInvalid: true` (check it before trusting
 * a field of one).
 */
export function isEvent<E extends { type: string; data: unknown }, T extends EventType>(
  e: E,
  type: T,
): e is E & { type: T; data: EventData<T> } {
  return e.type === type;
}
