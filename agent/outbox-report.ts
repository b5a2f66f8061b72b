/** `village-gateway outbox stats`: the outbox on disk for a technician's phone (40 columns); `--json` for machines. */
import type { OutboxSnapshot } from './outbox/inspect.js';
import { fit, span } from './status-report.js';

const row = (label: string, value: string) => fit(`${label.padEnd(9)}${value}`);

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatOutbox(s: OutboxSnapshot, now = Date.now()): string {
  const b = s.backlog;
  const shed = s.shed.critical + s.shed.high + s.shed.normal + s.shed.low;
  const lines = [
    fit(s.file),
    row('backlog', `${s.total.count} waiting, ${bytes(s.total.bytes)}`),
    fit(`  crit ${b.critical.count} high ${b.high.count} norm ${b.normal.count} low ${b.low.count}`),
    row(
      'oldest',
      s.oldest === null ? 'none' : `${span(Math.max(0, Math.round((now - Date.parse(s.oldest)) / 1000)))} old`,
    ),
    row('shed', shed === 0 ? 'none' : `${shed} events never sent`),
  ];
  if (shed > 0)
    lines.push(fit(`  crit ${s.shed.critical} high ${s.shed.high} norm ${s.shed.normal} low ${s.shed.low}`));
  return lines.join('\n');
}
