/**
 * What a vendor decoder makes of one part of a camera's stream, before the profile maps it:
 * a vendor event code in a state, a heartbeat, or nothing we read.
 */
export interface VendorEvent {
  kind: 'event';
  /** The vendor's code as sent (`VMD`, `linedetection`, `CrossLineDetection`). */
  code: string;
  /** start/stop for stateful events; pulse for those that only ever say "now". */
  state: 'start' | 'stop' | 'pulse';
  /** The video channel (1-based) or, for an alarm input, the input number (1-based); null if not sent. */
  channel: number | null;
  region: string | null;
  /** The camera's own clock, as it wrote it (kept as text: camera clocks drift and reset). */
  cameraTime: string | null;
  /** ONVIF's `Initialized`: the state as it is at subscribe, not a change. Never an alarm. */
  initial?: true;
}

/** `hostile`: a part no camera sends in good faith (a DOCTYPE with entities): counted as malformed and logged. */
export type Decoded = VendorEvent | { kind: 'heartbeat' } | { kind: 'ignored'; why: string; hostile?: true };

/**
 * The text of the first element named `tag` (any namespace prefix), or null. Entities are
 * never expanded (a DOCTYPE is never read): a "billion laughs" part stays its own size, and
 * only the five predefined entities are turned back into characters, once.
 */
export function xmlText(xml: string, tag: string): string | null {
  const m = new RegExp(`<(?:[A-Za-z_][\\w.-]{0,40}:)?${tag}(?:\\s[^<>]{0,400})?>([^<]{0,500})<`).exec(xml);
  if (!m) return null;
  const text = m[1]!
    .replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!)
    .trim();
  return text === '' ? null : text; // empty elements (<channelID/>, <activePostCount/>) are "not sent"
}

/** A positive channel number from text, else null. */
export function channelNumber(text: string | null | undefined, base: 0 | 1): number | null {
  if (text === null || text === undefined || !/^\d{1,6}$/.test(text.trim())) return null;
  return Number(text) + (base === 0 ? 1 : 0);
}
