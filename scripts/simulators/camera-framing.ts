/**
 * What simulated cameras write on their event streams, byte for byte as cameras.md shows it:
 * Hikvision's multipart/mixed XML alerts (heartbeat = videoloss/inactive, activePostCount 0)
 * and Dahua's multipart/x-mixed-replace `Code=...;action=...;index=...` parts with their
 * `Content-Length:9` heartbeat.
 */

export type Brand = 'hikvision' | 'dahua';

/** One event as a test scripts it, in the vendor's own terms. */
export interface SimEvent {
  /** Hikvision eventType (VMD, linedetection, IO) or Dahua Code (VideoMotion, AlarmLocal). */
  code: string;
  /** Hikvision: active/inactive; Dahua: Start/Stop/Pulse. */
  state: string;
  /** Hikvision channelID (or inputIOPortID for IO), 1-based; Dahua index, 0-based. */
  channel: number;
  region?: string;
  /** The camera's clock (drifts): written as the camera writes it. */
  cameraTime?: string;
}

export const BOUNDARY: Record<Brand, string> = { hikvision: 'boundary', dahua: 'myboundary' };
export const CONTENT_TYPE: Record<Brand, string> = {
  hikvision: 'multipart/mixed; boundary=boundary',
  dahua: 'multipart/x-mixed-replace; boundary=myboundary',
};

/** A whole part: boundary line, headers, body. `eol` is "\n" for the Dahua firmware that sends bare LFs. */
export function part(brand: Brand, contentType: string, body: string, eol = '\r\n', lengthSep = ': '): string {
  const len = Buffer.byteLength(body);
  return `--${BOUNDARY[brand]}${eol}Content-Type: ${contentType}${eol}Content-Length${lengthSep}${len}${eol}${eol}${body}${eol}`;
}

export function hikvisionAlert(e: SimEvent, postCount = 1): string {
  const io = e.code.toLowerCase() === 'io';
  const region =
    e.region === undefined
      ? ''
      : `<DetectionRegionList><DetectionRegionEntry><regionID>${e.region}</regionID><sensitivityLevel>50</sensitivityLevel></DetectionRegionEntry></DetectionRegionList>\n`;
  return (
    `<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n` +
    `<ipAddress>192.168.1.64</ipAddress>\n<portNo>80</portNo>\n<protocol>HTTP</protocol>\n` +
    `<macAddress>44:19:b6:00:00:01</macAddress>\n` +
    (io ? `<inputIOPortID>${e.channel}</inputIOPortID>\n<channelID/>\n` : `<channelID>${e.channel}</channelID>\n`) +
    `<dateTime>${e.cameraTime ?? '2017-12-01T09:01:18+8:00'}</dateTime>\n` +
    `<activePostCount>${postCount}</activePostCount>\n<eventType>${e.code}</eventType>\n` +
    `<eventState>${e.state}</eventState>\n<eventDescription>${e.code} alarm</eventDescription>\n${region}` +
    `</EventNotificationAlert>`
  );
}

export const hikvisionHeartbeat = (): string =>
  hikvisionAlert({ code: 'videoloss', state: 'inactive', channel: 1 }, 0).replace(
    /<activePostCount>\d+</,
    '<activePostCount>0<',
  );

export function dahuaBody(e: SimEvent): string {
  const data =
    e.region !== undefined || e.cameraTime !== undefined
      ? `;data={\n   "RegionName" : [ "${e.region ?? ''}" ],\n   "UTC" : ${e.cameraTime ?? 1620477656}\n}`
      : '';
  return `Code=${e.code};action=${e.state};index=${e.channel}${data}`;
}

/** The event part for a brand. */
export function eventPart(brand: Brand, e: SimEvent, eol = '\r\n'): string {
  return brand === 'hikvision'
    ? part(brand, 'application/xml; charset="UTF-8"', hikvisionAlert(e), eol)
    : part(brand, 'text/plain', dahuaBody(e), eol, ':');
}

export function heartbeatPart(brand: Brand, eol = '\r\n'): string {
  return brand === 'hikvision'
    ? part(brand, 'application/xml; charset="UTF-8"', hikvisionHeartbeat(), eol)
    : part(brand, 'text/plain', 'Heartbeat', eol, ':');
}

/** A "billion laughs" alert: ten levels of ten entity references, expanding to a gigabyte if expanded. */
export function xmlBomb(): string {
  const lines = ['<!ENTITY lol0 "lol">'];
  for (let i = 1; i < 10; i += 1) lines.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  return (
    `<?xml version="1.0"?>\n<!DOCTYPE EventNotificationAlert [\n${lines.join('\n')}\n]>\n` +
    `<EventNotificationAlert><eventType>&lol9;</eventType><eventState>active</eventState></EventNotificationAlert>`
  );
}
