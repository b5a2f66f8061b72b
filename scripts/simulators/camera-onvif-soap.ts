/**
 * The SOAP a simulated ONVIF camera speaks (camera-onvif-sim.ts): answers shaped as
 * cameras.md section 3 shows (agsh/onvif, onvif-parsers), its faults, and the check of a
 * WS-Security UsernameToken PasswordDigest against the camera's own (skewed) clock.
 */
import { passwordDigest } from '../../drivers/camera/onvif-soap.js';

const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
  'xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" ' +
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ' +
  'xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:tns1="http://www.onvif.org/ver10/topics" ' +
  'xmlns:ter="http://www.onvif.org/ver10/error"';

export const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NS}><s:Body>${body}</s:Body></s:Envelope>`;

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function fault(subcode: string, text: string): string {
  return envelope(
    `<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${text}</s:Text></s:Reason></s:Fault>`,
  );
}

export function dateTime(ms: number): string {
  const d = new Date(ms);
  return envelope(
    `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>` +
      `<tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime>` +
      `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
      `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
      `</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
  );
}

export const subscribed = (address: string, now: number, until: number) =>
  envelope(
    `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${address}</wsa:Address>` +
      `</tev:SubscriptionReference><wsnt:CurrentTime>${iso(now)}</wsnt:CurrentTime>` +
      `<wsnt:TerminationTime>${iso(until)}</wsnt:TerminationTime></tev:CreatePullPointSubscriptionResponse>`,
  );

export const renewed = (now: number, until: number) =>
  envelope(
    `<wsnt:RenewResponse><wsnt:TerminationTime>${iso(until)}</wsnt:TerminationTime>` +
      `<wsnt:CurrentTime>${iso(now)}</wsnt:CurrentTime></wsnt:RenewResponse>`,
  );

/** One ONVIF event as the simulator is told it. */
export interface OnvifSimEvent {
  /** As the camera writes it, prefix and all: `tns1:RuleEngine/CellMotionDetector/Motion`. */
  topic: string;
  data: Record<string, string>;
  source?: Record<string, string>;
  operation?: 'Initialized' | 'Changed' | 'Deleted' | null;
}

const items = (o: Record<string, string> = {}) =>
  Object.entries(o)
    .map(([n, v]) => `<tt:SimpleItem Name="${n}" Value="${v}"/>`)
    .join('');

export function notification(ev: OnvifSimEvent, at: number): string {
  const op = ev.operation === null ? '' : ` PropertyOperation="${ev.operation ?? 'Changed'}"`;
  return (
    `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${ev.topic}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${iso(at)}"${op}><tt:Source>${items(ev.source)}</tt:Source>` +
    `<tt:Data>${items(ev.data)}</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}

export const pulled = (now: number, until: number, messages: string[]) =>
  envelope(
    `<tev:PullMessagesResponse><tev:CurrentTime>${iso(now)}</tev:CurrentTime>` +
      `<tev:TerminationTime>${iso(until)}</tev:TerminationTime>${messages.join('')}</tev:PullMessagesResponse>`,
  );

export const profiles = () =>
  envelope(
    `<trt:GetProfilesResponse>` +
      `<trt:Profiles token="main" fixed="true"><tt:Name>main</tt:Name><tt:VideoEncoderConfiguration token="v0"><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>` +
      `<trt:Profiles token="sub" fixed="true"><tt:Name>sub</tt:Name><tt:VideoEncoderConfiguration token="v1"><tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>` +
      `</trt:GetProfilesResponse>`,
  );

export const snapshotUri = (uri: string) =>
  envelope(
    `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
      `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`,
  );

/** A "billion laughs" answer: entities nested ten deep, used in the Data value. */
export function entityBomb(): string {
  let dtd = '<!ENTITY lol0 "lol">';
  for (let i = 1; i <= 10; i += 1) dtd += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
  return `<?xml version="1.0"?><!DOCTYPE s:Envelope [${dtd}]>${envelope(
    `<tev:PullMessagesResponse>${notification({ topic: 'tns1:RuleEngine/LineDetector/Crossed', data: { State: '&lol10;' } }, 0)}</tev:PullMessagesResponse>`,
  )}`;
}

/** Whether the request's UsernameToken proves the password at the camera's time `now` (within `windowMs`). */
export function verifyWsse(
  xml: string,
  creds: { user: string; password: string },
  now: number,
  windowMs: number,
): 'ok' | 'missing' | 'wrong' | 'stale' {
  const tag = (name: string) => new RegExp(`<(?:\\w+:)?${name}\\b[^>]*>([^<]*)<`).exec(xml)?.[1] ?? null;
  const user = tag('Username');
  const digest = tag('Password');
  const nonce = tag('Nonce');
  const created = tag('Created');
  if (user === null || digest === null || nonce === null || created === null) return 'missing';
  if (user !== creds.user || passwordDigest(Buffer.from(nonce, 'base64'), created, creds.password) !== digest)
    return 'wrong';
  return Math.abs(Date.parse(created) - now) <= windowMs ? 'ok' : 'stale';
}
