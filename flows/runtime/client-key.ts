/**
 * Who a login comes from, as the editor's front counts failures (editor-front.ts): an IPv4
 * address as it is, an IPv6 address by its /64 network. Why: one IPv6 host is routinely given
 * a whole /64 (SLAAC, privacy addresses), so counting per address would hand a stranger 2^64
 * fresh allowances. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket
 * reports) is the IPv4 client it maps. A zone (`fe80::1%eth0`) is dropped.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const a = address.split('%')[0]!.toLowerCase();
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return a.slice(0, 64);
  const h = hextets(a);
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff)
    return [h[6]! >> 8, h[6]! & 0xff, h[7]! >> 8, h[7]! & 0xff].join('.');
  return `${h
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/** The 8 groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail as its 2 groups). */
function hextets(a: string): number[] {
  let s = a;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const groups = (part: string) => (part ? part.split(':').map((x) => parseInt(x, 16)) : []);
  if (tail === undefined) return groups(head);
  const h = groups(head);
  const t = groups(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
