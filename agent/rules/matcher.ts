/** A rule's `when`, compiled once into a synchronous predicate (sift for the data query). */
import siftPackage from 'sift';
import type { GatewayEvent } from '../../core/contracts/event.js';
import type { Match } from '../../config/schema/rules.js';

export type Matcher = (e: GatewayEvent) => boolean;

export function compileMatch(m: Match, tagsOf: (deviceId: string) => readonly string[]): Matcher {
  const types = m.type === undefined ? null : new Set(Array.isArray(m.type) ? m.type : [m.type]);
  const devices = m.devices ? new Set(m.devices) : null;
  const tags = m.tags ?? null;
  // sift is CommonJS: under NodeNext its function is `.default` (in the types and at run time).
  const sift = siftPackage.default;
  const data = m.data ? sift(m.data as Parameters<typeof sift>[0]) : null;
  return (e) =>
    (types === null || types.has(e.type)) &&
    (devices === null || devices.has(e.deviceId)) &&
    (tags === null || tagsOf(e.deviceId).some((t) => tags.includes(t))) &&
    (data === null || data(e.data));
}

/** Minutes since local midnight in a time zone. */
export function minutesOfDay(wallMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(wallMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/** Is `minute` inside [from, to)? A window whose end is before its start spans midnight. */
export function inWindow(minute: number, from: string, to: string): boolean {
  const m = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
  const a = m(from);
  const b = m(to);
  return a <= b ? minute >= a && minute < b : minute >= a || minute < b;
}
