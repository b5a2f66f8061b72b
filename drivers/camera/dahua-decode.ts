/**
 * Dahua CGI eventManager parts: `Heartbeat`, or `Code=VideoMotion;action=Start;index=0`
 * with an optional multi-line `data={json}`. `index` is 0-based (the channel, or for
 * AlarmLocal the alarm input). IVS events (CrossLineDetection, CrossRegionDetection) come as
 * Start with no Stop, or as Pulse: the profile marks them pulses.
 */
import { channelNumber, type Decoded } from './camera-event.js';

export function decodeDahua(body: Buffer, pulseCodes: ReadonlySet<string>): Decoded {
  const text = body.toString('utf8').trim();
  if (/^heartbeat$/i.test(text)) return { kind: 'heartbeat' };
  const dataAt = text.indexOf(';data=');
  const head = dataAt >= 0 ? text.slice(0, dataAt) : text;
  const fields: Record<string, string> = {};
  for (const pair of head.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields[pair.slice(0, eq).trim().toLowerCase()] = pair.slice(eq + 1).trim();
  }
  const code = fields.code;
  const action = (fields.action ?? '').toLowerCase();
  if (!code) return { kind: 'ignored', why: 'no Code=' };
  if (action !== 'start' && action !== 'stop' && action !== 'pulse')
    return { kind: 'ignored', why: `action ${action || 'missing'}` };
  const data = dataAt >= 0 ? parseData(text.slice(dataAt + 6)) : {};
  const pulse = pulseCodes.has(code.toLowerCase());
  if (pulse && action === 'stop') return { kind: 'ignored', why: 'stop of a pulse' };
  const region = firstString(data.RegionName) ?? firstString(data.Name);
  const utc = typeof data.UTC === 'number' ? new Date(data.UTC * 1000).toISOString() : null;
  return {
    kind: 'event',
    code,
    state: pulse || action === 'pulse' ? 'pulse' : action === 'start' ? 'start' : 'stop',
    channel: channelNumber(fields.index, 0),
    region,
    cameraTime: utc,
  };
}

function parseData(json: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {}; // the event still counts without its details
  }
}

function firstString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return null;
}
