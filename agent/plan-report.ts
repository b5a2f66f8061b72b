/**
 * What `village-gateway plan` prints: 40 columns for a technician's phone by default (a line a
 * kind of event: events and MB a month with the config's wire settings), `--wide` for the full
 * table, `--json` for machines. When one setting makes most of the month's bytes, it says
 * which, and what a longer interval would save: health every 5 minutes was 9.2 of 9.9 MB in
 * the example config and nothing said so.
 */
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { TCPIP_PER_MESSAGE, type Plan, type PlanRow } from './plan.js';
import type { PicturePlan } from './plan-pictures.js';
import { fit, span, WIDTH } from './status-report.js';

/** One setting that makes most of the month's bytes, and what changing it would save. */
export interface PlanWarning {
  /** The config key, by path (`health.intervalSec`, `devices.meter.rates.telemetryPerSec`). */
  setting: string;
  value: number;
  /** Its bytes a month on the wire, TCP/IP headers included. */
  bytes: number;
  /** Its share of the month's bytes (0-1). */
  share: number;
  /** The value suggested, and the bytes a month it saves. */
  suggest: { value: number; saves: number };
}

/** Above this share of the month one setting "eats" it. */
const MOST = 0.5;
/** Hourly health is what the warning suggests and where it stops: the county still hears the gateway every hour. */
const HEALTH_SUGGESTED_SEC = 3600;

const tcp = (messages: number) => messages * TCPIP_PER_MESSAGE;
const rowBytes = (r: PlanRow) => r.wireBytes + tcp(r.wireMessages);
/** The month's bytes with TCP/IP, the pictures included (they go the same way whatever the wire format). */
export const totalBytes = (p: Plan) => ({
  json: p.jsonBytes + tcp(p.jsonMessages) + picturesTotal(p),
  wire: p.wireBytes + tcp(p.wireMessages) + picturesTotal(p),
});
const picturesTotal = (p: Plan) => p.pictures.bytes + tcp(p.pictures.messages);

/**
 * The settings that make most of the month. Health's interval and a synthetic device's telemetry
 * rate are settings; radio readings and door openings are what people and sensors do (the
 * plan's assumptions), so nothing in the config would change them.
 */
export function planWarnings(plan: Plan, config: GatewayConfig): PlanWarning[] {
  const total = totalBytes(plan).wire;
  const warnings: PlanWarning[] = [];
  const health = plan.rows.find((r) => r.type === 'gateway.health');
  const every = config.health.intervalSec;
  if (health && every < HEALTH_SUGGESTED_SEC && rowBytes(health) > MOST * total) {
    const bytes = rowBytes(health);
    warnings.push({
      setting: 'health.intervalSec',
      value: every,
      bytes,
      share: bytes / total,
      suggest: { value: HEALTH_SUGGESTED_SEC, saves: bytes * (1 - every / HEALTH_SUGGESTED_SEC) },
    });
  }
  const telemetry = plan.rows.find((r) => r.type === 'sensor.telemetry');
  const meters = config.devices.filter((d) => d.driver === 'synthetic' && d.rates.telemetryPerSec > 0);
  if (telemetry && meters.length === 1 && rowBytes(telemetry) > MOST * total) {
    // Only synthetic devices make sensor.telemetry; with one of them the setting is unambiguous.
    const d = meters[0]!;
    const bytes = rowBytes(telemetry);
    const rate = d.driver === 'synthetic' ? d.rates.telemetryPerSec : 0;
    warnings.push({
      setting: `devices.${d.id}.rates.telemetryPerSec`,
      value: rate,
      bytes,
      share: bytes / total,
      suggest: { value: rate / 10, saves: bytes * 0.9 },
    });
  }
  return warnings;
}

const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e7 ? 2 : 1)} MB`;
/** Short MB for the narrow table and the warning: "8.29", "2747.5", "58968". */
const mbShort = (b: number) => (b / 1e6).toFixed(b < 1e7 ? 2 : b < 1e9 ? 1 : 0);
const count = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
/** Events a month in at most 8 characters: "10,200", "518,400", "103.7 M". */
const countShort = (n: number) => (n >= 1e7 ? `${(n / 1e6).toFixed(1)} M` : count(n));
const every = (sec: number) => (sec >= 3600 && sec % 3600 === 0 ? `${sec / 3600} h` : span(sec));

function wireLine(plan: Plan, config: GatewayConfig): string[] {
  const { wire, protocolVersion } = config.mqtt;
  const mqtt = `MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`;
  if (wire.format !== 'compact') return [`wire json, ${mqtt}`, '(mqtt.wire.format: compact batches)'];
  const n = plan.batchEvents;
  return [`wire compact ${wire.compression}, ${mqtt}`, `linger ${every(wire.lingerMs / 1000)}, ~${n} a batch`];
}

/** A config path on lines of at most `width`, broken after a dot. */
function wrapPath(path: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const part of path.split(/(?<=\.)/)) {
    if (cur && cur.length + part.length > width) {
      lines.push(cur);
      cur = '';
    }
    cur += part;
  }
  return [...lines, cur];
}

/** The warnings as short lines (also under the wide table). */
export function warningLines(warnings: readonly PlanWarning[], total: number): string[] {
  const lines: string[] = [];
  for (const w of warnings) {
    const isHealth = w.setting === 'health.intervalSec';
    const now = isHealth ? `every ${every(w.value)}` : `${w.value}/s`;
    const then = isHealth ? `every ${every(w.suggest.value)}` : `${w.suggest.value}/s`;
    lines.push(
      '',
      `WARNING ${Math.round(w.share * 100)}% of the month is`,
      ...wrapPath(w.setting, WIDTH - 2).map((l) => `  ${l}`),
      `  now ${now}: ${mbShort(w.bytes)} of ${mbShort(total)} MB;`,
      `  ${then} would save ${mbShort(w.suggest.saves)} MB`,
    );
  }
  return lines;
}

/** The pictures' line and what it assumes (nothing without a networked camera). */
function pictureLines(p: PicturePlan, line: (label: string, events: string, mbs: string) => string): string[] {
  if (p.cameras === 0) return [];
  const head = line('pictures', countShort(p.sentPerMonth), mbShort(p.bytes));
  if (p.why !== null) return [head, fit(`  none sent: ${p.why}`)];
  const cams = p.cameras === 1 ? '1 camera' : `${p.cameras} cameras`;
  const each = `${Math.round(p.pictureBytes / 1000)} KB`;
  const lines = [head, fit(`  ${+(p.takenPerDay / p.cameras).toFixed(1)} a day x ${each}, ${cams}, ${p.mode}`)];
  if (p.capped) lines.push(fit('  capped by media.upload.maxBytesPerDay'));
  return lines;
}

/** 40 columns: a line a kind of event (events and MB a month on the wire), then the totals. */
export function formatPlan(plan: Plan, config: GatewayConfig): string {
  const totals = totalBytes(plan);
  const line = (label: string, events: string, mbs: string) =>
    fit(`${label.slice(0, 22).padEnd(22)} ${events.padStart(8)} ${mbs.padStart(8)}`);
  const lines = [
    ...wireLine(plan, config),
    line('a 30-day month', 'events', 'MB'),
    ...plan.rows.map((r) => line(r.type, countShort(r.eventsPerMonth), mbShort(r.wireBytes))),
    ...pictureLines(plan.pictures, line),
    line('MQTT', countShort(plan.eventsPerMonth), mbShort(plan.wireBytes + plan.pictures.bytes)),
    line('+ TCP/IP (est.)', '', mbShort(totals.wire - plan.wireBytes - plan.pictures.bytes)),
    line('total', '', mbShort(totals.wire)),
  ];
  if (config.mqtt.wire.format === 'compact') lines.push(fit(`all as JSON: ${mbShort(totals.json)} MB`));
  lines.push(...warningLines(planWarnings(plan, config), totals.wire));
  return lines.map(fit).join('\n');
}

/** The full table (`--wide`): priority, devices, JSON and wire bytes, how each kind travels. */
export function formatPlanWide(plan: Plan, config: GatewayConfig): string {
  const { wire } = config.mqtt;
  const head = ['type', 'priority', 'devices', 'events/month', 'json bytes/month', 'wire bytes/month', 'as'];
  const rows = plan.rows.map((r) => [
    r.type,
    r.priority,
    String(r.devices),
    count(r.eventsPerMonth),
    mb(r.jsonBytes),
    mb(r.wireBytes),
    r.how,
  ]);
  const totals = totalBytes(plan);
  const pics = plan.pictures;
  if (pics.cameras > 0)
    rows.push([
      'pictures',
      'lowest',
      String(pics.cameras),
      count(pics.sentPerMonth),
      mb(pics.bytes),
      mb(pics.bytes),
      pics.why ?? `${pics.mode}, ${plan.pictures.pictureBytes} B each${pics.capped ? ', capped a day' : ''}`,
    ]);
  rows.push([
    'total (MQTT)',
    '',
    '',
    count(plan.eventsPerMonth),
    mb(plan.jsonBytes + pics.bytes),
    mb(plan.wireBytes + pics.bytes),
    '',
  ]);
  rows.push([
    '+ TCP/IP headers (est.)',
    '',
    '',
    '',
    mb(totals.json - plan.jsonBytes - pics.bytes),
    mb(totals.wire - plan.wireBytes - pics.bytes),
    '',
  ]);
  rows.push(['total', '', '', '', mb(totals.json), mb(totals.wire), '']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const settings =
    wire.format === 'compact'
      ? `wire: compact, ${wire.compression}, linger ${wire.lingerMs / 1000} s (${plan.batchEvents} event${plan.batchEvents === 1 ? '' : 's'} a batch at these rates)`
      : 'wire: json (mqtt.wire.format: compact would batch and compress normal and low events)';
  return [
    `${settings}; MQTT ${config.mqtt.protocolVersion === 5 ? '5' : '3.1.1'}`,
    line(head),
    ...rows.map(line),
    `ratio wire/json: ${(plan.wireBytes / plan.jsonBytes).toFixed(3)} (MQTT bytes; 30-day month)`,
    ...warningLines(planWarnings(plan, config), totals.wire),
  ].join('\n');
}

/** `--json`: the plan, its totals with TCP/IP headers, and the warnings. */
export function planJson(plan: Plan, config: GatewayConfig): Record<string, unknown> {
  const totals = totalBytes(plan);
  return {
    ...plan,
    tcpipBytes: { json: totals.json - plan.jsonBytes, wire: totals.wire - plan.wireBytes },
    totalBytes: totals,
    warnings: planWarnings(plan, config),
  };
}
