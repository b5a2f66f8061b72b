/** The delivery verdict in words: the county CLI's report and the demo's `check` line share it. */
import type { BootReport, Verdict } from './delivery-checker.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * One line: `ok: 1 boot, seqs contiguous (1..765), 765 committed, 0 undelivered, 2 duplicates (identical)`, or
 * the problems.
 */
export function verdictLine(v: Verdict): string {
  if (!v.ok) return `FAILED: ${plural(v.problems.length, 'problem')}: ${v.problems.join('; ')}`;
  if (v.distinct === 0) return 'ok: nothing received';
  const ranges = v.boots.map((b) => `${b.firstSeq}..${b.lastSeq}`).join(', ');
  const lost = Object.values(v.lost).reduce((a, n) => a + n, 0);
  const contiguous =
    lost > 0 ? `seqs ${ranges}, ${lost} lost, all accounted for by shedding` : `seqs contiguous (${ranges})`;
  const committed =
    v.committed > 0
      ? `, ${v.committed} committed, ${v.undelivered.length} undelivered${v.undelivered.length > 0 ? ' (shed)' : ''}`
      : '';
  return `ok: ${plural(v.boots.length, 'boot')}, ${contiguous}${committed}, ${plural(v.duplicates, 'duplicate')} (identical)${picturesPart(v)}`;
}

/** `; 1 picture whole (sha256 ok)`, and those announced but not sent: nothing when there were no pictures. */
function picturesPart(v: Verdict): string {
  const p = v.pictures;
  if (p.announced === 0 && p.whole === 0) return '';
  const notSent = p.notSent.length > 0 ? `, ${p.notSent.length} announced not sent (upload mode)` : '';
  return `; ${plural(p.whole, 'picture')} whole (sha256 ok)${notSent}`;
}

function bootLine(b: BootReport): string {
  const start = b.anchored ? '' : ' (gateway.started not seen: judged from the lowest seq received)';
  const missing =
    b.missingCount === 0
      ? 'none missing'
      : `missing ${b.missingCount}: ${b.missing.slice(0, 20).join(', ')}${b.missingCount > 20 ? ', ...' : ''}`;
  return `  ${b.gatewayId}  boot ${b.bootId}  seqs ${b.firstSeq}..${b.lastSeq}  ${b.received} received, ${missing}${start}`;
}

/** The report the county CLI prints: the verdict, each boot's range, and every problem. */
export function verdictReport(v: Verdict): string {
  const lines = [`delivery check: ${v.ok ? 'ok' : plural(v.problems.length, 'problem')}`];
  for (const p of v.problems) lines.push(`  problem: ${p}`);
  lines.push(`boots (${v.boots.length})`);
  const boots = [...v.boots].sort((a, b) =>
    a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : a.firstSeq - b.firstSeq,
  );
  for (const b of boots) lines.push(bootLine(b));
  const shed = Object.entries(v.shed).map(([gw, n]) => `${gw} ${n}`);
  lines.push(
    `events ${v.distinct} distinct; ${plural(v.duplicates, 'duplicate')}; ${v.malformed} malformed; ${plural(v.unreadable, 'unreadable message')}; shed as reported by the gateways: ${shed.length > 0 ? shed.join(', ') : 'none'}`,
  );
  const p = v.pictures;
  const any = p.announced + p.whole + p.incomplete.length + p.corrupt.length + p.unannounced.length + p.strayChunks;
  if (any > 0)
    lines.push(
      `pictures ${p.announced} announced; ${p.whole} whole (sha256 and size as announced); ${p.notSent.length} announced, no chunk arrived (held back by the upload mode or the daily cap); ${p.incomplete.length} incomplete; ${p.corrupt.length} corrupt; ${p.unannounced.length} never announced`,
    );
  return lines.join('\n');
}
