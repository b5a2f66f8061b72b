/**
 * A small SOAP 1.2 client for ONVIF, on fast-xml-parser with entities off: every request is
 * a POST through the camera's HTTP client (so HTTP digest is answered where the camera asks
 * for it), signed with a WS-Security UsernameToken PasswordDigest whose `Created` is the
 * *camera's* time (gateway now + the offset read by GetSystemDateAndTime): cameras check it
 * against their own clock, which in a village after a power cut may be hours or months off.
 * Every answer is bounded: headers within a timeout, the body within a byte cap and a time.
 * A DOCTYPE is refused before parsing (SOAP forbids one), so no entity is ever defined.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CameraHttp } from './camera-http.js';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  device: 'http://www.onvif.org/ver10/device/wsdl',
  events: 'http://www.onvif.org/ver10/events/wsdl',
  media: 'http://www.onvif.org/ver10/media/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
};
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const B64 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** Parsed XML: element names without their namespace prefix, attributes as `@name`. */
export type Xml = Record<string, unknown>;

const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === 'NotificationMessage' || name === 'SimpleItem' || name === 'Profiles',
});

export const xmlEscape = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** PasswordDigest = Base64(SHA1(nonce + created + password)) (WS-Security UsernameToken profile 1.0). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)]))
    .digest('base64');
}

/** The Body of a SOAP answer; throws CAMERA_STREAM_MALFORMED for a DOCTYPE, bad XML or no Envelope/Body. */
export function parseSoap(text: string): Xml {
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new GatewayError('CAMERA_STREAM_MALFORMED', 'a SOAP answer with a DOCTYPE (refused: SOAP has none)');
  let doc: Xml;
  try {
    doc = parser.parse(text) as Xml;
  } catch (err) {
    throw new GatewayError('CAMERA_STREAM_MALFORMED', `not XML: ${(err as Error).message}`, { cause: err });
  }
  const body = (doc.Envelope as Xml | undefined)?.Body;
  if (!body || typeof body !== 'object')
    throw new GatewayError('CAMERA_STREAM_MALFORMED', 'not a SOAP envelope (no Envelope/Body)');
  return body as Xml;
}

/** An element's text whether it came as text or as an object with attributes. */
export function textOf(v: unknown): string | null {
  if (typeof v === 'string') return v.trim();
  if (v && typeof v === 'object' && typeof (v as Xml)['#text'] === 'string')
    return ((v as Xml)['#text'] as string).trim();
  return null;
}

export interface SoapTarget {
  path: string;
  port?: number;
}

export interface SoapCall {
  target: SoapTarget;
  action: string;
  body: string;
  signal: AbortSignal;
  /** Headers and body within this long (a PullMessages long poll is given more). */
  timeoutMs: number;
  /** Without WS-Security (GetSystemDateAndTime: the spec lets it go unsigned). */
  anonymous?: boolean;
}

export class OnvifSoap {
  /** Camera clock minus gateway clock, ms: added to `Created`. */
  offsetMs = 0;
  faults = 0;

  constructor(
    private readonly http: CameraHttp,
    private readonly creds: { user: string; password: string },
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  async call(c: SoapCall): Promise<Xml> {
    const header = c.anonymous ? '' : `<s:Header>${this.security()}</s:Header>`;
    const envelope = `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.soap}">${header}<s:Body>${c.body}</s:Body></s:Envelope>`;
    const signal = AbortSignal.any([c.signal, AbortSignal.timeout(c.timeoutMs)]);
    const res = await this.http.request(
      {
        path: c.target.path,
        port: c.target.port,
        method: 'POST',
        body: envelope,
        contentType: `application/soap+xml; charset=utf-8; action="${c.action}"`,
        headersTimeoutMs: c.timeoutMs,
        accept: [400, 500],
      },
      signal,
    );
    const body = parseSoap(await readText(res, this.maxBytes, signal));
    const fault = body.Fault as Xml | undefined;
    if (fault) throw this.fault(fault, res.statusCode ?? 0);
    if (res.statusCode !== 200)
      throw new GatewayError('CAMERA_STREAM_LOST', `answered ${res.statusCode ?? '?'} with no SOAP fault`);
    return body;
  }

  private security(): string {
    const nonce = randomBytes(16);
    // Milliseconds dropped: some firmware refuses a fraction in Created.
    const created = new Date(this.now() + this.offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const digest = passwordDigest(nonce, created, this.creds.password);
    return (
      `<Security s:mustUnderstand="1" xmlns="${WSSE}"><UsernameToken>` +
      `<Username>${xmlEscape(this.creds.user)}</Username>` +
      `<Password Type="${DIGEST_TYPE}">${digest}</Password>` +
      `<Nonce EncodingType="${B64}">${nonce.toString('base64')}</Nonce>` +
      `<Created xmlns="${WSU}">${created}</Created></UsernameToken></Security>`
    );
  }

  /** A SOAP fault: NotAuthorized (or a wsse/time complaint) is a refused login; anything else a failed call. */
  private fault(fault: Xml, status: number): GatewayError {
    this.faults += 1;
    const flat = JSON.stringify(fault).slice(0, 2000);
    const reason = textOf((fault.Reason as Xml | undefined)?.Text) ?? flat.slice(0, 200);
    const auth = /NotAuthori[sz]ed|not authori[sz]ed|wsse|FailedAuthentication|time check/i.test(flat);
    return new GatewayError(auth ? 'CAMERA_AUTH_REFUSED' : 'CAMERA_STREAM_LOST', `SOAP fault (${status}): ${reason}`, {
      detail: { fault: auth ? 'auth' : 'other', status },
    });
  }

  /** GetSystemDateAndTime, unsigned (signed if the camera insists): sets the clock offset. */
  async readClock(target: SoapTarget, signal: AbortSignal, timeoutMs: number): Promise<number> {
    const call = { target, signal, timeoutMs, action: `${NS.device}/GetSystemDateAndTime` };
    const body = `<GetSystemDateAndTime xmlns="${NS.device}"/>`;
    const sent = this.now();
    let answer: Xml;
    try {
      answer = await this.call({ ...call, body, anonymous: true });
    } catch (err) {
      if (!(err instanceof GatewayError && err.code === 'CAMERA_AUTH_REFUSED')) throw err;
      answer = await this.call({ ...call, body }); // Panasonic and some Hikvision want it signed
    }
    const got = this.now();
    const camera = cameraUtc(answer);
    // The camera read its clock about halfway through the round trip.
    if (camera !== null) this.offsetMs = camera - Math.round((sent + got) / 2);
    return this.offsetMs;
  }
}

/** UTCDateTime of a GetSystemDateAndTimeResponse, as epoch ms; null if absent or unreadable. */
function cameraUtc(body: Xml): number | null {
  const info = ((body.GetSystemDateAndTimeResponse as Xml | undefined)?.SystemDateAndTime ?? {}) as Xml;
  const utc = (info.UTCDateTime ?? info.LocalDateTime) as Xml | undefined;
  const d = utc?.Date as Xml | undefined;
  const t = utc?.Time as Xml | undefined;
  const n = (v: unknown) => Number(textOf(v));
  const ms = Date.UTC(n(d?.Year), n(d?.Month) - 1, n(d?.Day), n(t?.Hour), n(t?.Minute), n(t?.Second));
  return Number.isFinite(ms) && n(d?.Year) > 1970 ? ms : null;
}

/** The body as text, cut at `maxBytes` (a huge answer is never buffered whole). */
function readText(res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const done = (err: Error | null) => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      if (err) {
        res.destroy();
        reject(err);
      } else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onAbort = () => done(new GatewayError('CAMERA_STREAM_LOST', 'the SOAP answer was not whole in time'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes)
        return done(new GatewayError('CAMERA_PART_TOO_LARGE', `a SOAP answer over ${maxBytes} bytes, cut`));
      chunks.push(chunk);
    });
    res.once('end', () => done(null));
    res.once('error', (err) => done(err));
  });
}
