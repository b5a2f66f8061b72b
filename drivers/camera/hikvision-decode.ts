/**
 * Hikvision ISAPI alertStream parts: an `EventNotificationAlert` in XML (namespaces ver10,
 * ver20 or isapi.org; empty elements on NVRs), or in JSON on newer firmware. The heartbeat is
 * `videoloss`/`inactive` with activePostCount 0 (or eventType `heartBeat`). Picture parts are
 * not read here.
 */
import { channelNumber, xmlText, type Decoded } from './camera-event.js';

export function decodeHikvision(contentType: string, body: Buffer, pulseCodes: ReadonlySet<string>): Decoded {
  const text = body.toString('utf8').trimStart();
  // An alert never declares a DOCTYPE; one that does is an entity bomb (which we would not expand anyway).
  if (/<!(DOCTYPE|ENTITY)/i.test(text)) return { kind: 'ignored', why: 'a DOCTYPE in an alert', hostile: true };
  const f = text.startsWith('<') ? fromXml(text) : text.startsWith('{') ? fromJson(text) : null;
  if (!f) return { kind: 'ignored', why: `not an event (${contentType || 'no Content-Type'})` };
  if (!f.eventType) return { kind: 'ignored', why: 'no eventType' };
  const type = f.eventType.toLowerCase();
  const state = (f.eventState ?? '').toLowerCase();
  if (type === 'heartbeat' || (type === 'videoloss' && state === 'inactive' && (f.activePostCount ?? '0') === '0'))
    return { kind: 'heartbeat' };
  if (state !== 'active' && state !== 'inactive') return { kind: 'ignored', why: `eventState ${state || 'missing'}` };
  const pulse = pulseCodes.has(type);
  // Line crossing and intrusion only ever say "active": a pulse; an "inactive" for them says nothing new.
  if (pulse && state === 'inactive') return { kind: 'ignored', why: 'inactive pulse' };
  return {
    kind: 'event',
    code: f.eventType,
    state: pulse ? 'pulse' : state === 'active' ? 'start' : 'stop',
    channel: channelNumber(f.channel, 1),
    region: f.region,
    cameraTime: f.dateTime,
  };
}

interface Fields {
  eventType: string | null;
  eventState: string | null;
  activePostCount: string | null;
  channel: string | null;
  region: string | null;
  dateTime: string | null;
}

function fromXml(xml: string): Fields {
  const type = xmlText(xml, 'eventType');
  // pyHik's order: an IO event names its input, a video event its channel (NVRs: dynChannelID).
  const ids =
    type?.toLowerCase() === 'io' ? ['inputIOPortID', 'dynInputIOPortID', 'channelID'] : ['channelID', 'dynChannelID'];
  return {
    eventType: type,
    eventState: xmlText(xml, 'eventState'),
    activePostCount: xmlText(xml, 'activePostCount'),
    channel: ids.map((t) => xmlText(xml, t)).find((v) => v !== null) ?? null,
    region: xmlText(xml, 'regionID'),
    dateTime: xmlText(xml, 'dateTime'),
  };
}

function fromJson(text: string): Fields | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const s = (x: unknown) => (typeof x === 'string' || typeof x === 'number' ? String(x) : null);
  return {
    eventType: s(o.eventType),
    eventState: s(o.eventState),
    activePostCount: s(o.activePostCount),
    channel: s(o.channelID) ?? s(o.inputIOPortID) ?? s(o.dynChannelID),
    region: null,
    dateTime: s(o.dateTime),
  };
}
