/**
 * What an alert's SMS says, whose budget it spends, and which open alerts a late alarm stands
 * for: the pure part of the SMS fallback, kept out of local-alarms.ts (which does the sending).
 */
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import type { SmsKind, StoredAlert } from './alarm-state.js';
import { textsFor } from '../i18n/texts.js';

/** The rule id alerts raised by Node-RED flows carry (no configured rule may use it). */
export const FLOW_RULE_ID = 'flow';

/** A flow's alert spends the flows' budget; a rule's (a resident's press, the gateway's own) the alarms'. */
export const smsKindOf = (a: Pick<StoredAlert, 'ruleId'>): SmsKind => (a.ruleId === FLOW_RULE_ID ? 'flow' : 'alarm');

/** `village: message (device, hh:mm)` in alarms.smsLanguage, the time in the gateway's time zone. */
export function alertSmsText(config: GatewayConfig, a: StoredAlert): string {
  const when = new Intl.DateTimeFormat('en-GB', {
    timeZone: config.gateway.timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(a.raisedAtMs));
  const place = config.gateway.name ?? config.gateway.id;
  return textsFor(config.alarms.smsLanguage).sms.alert({ place, message: a.message, device: a.deviceId, time: when });
}

/**
 * The open alerts to send by SMS now because the broker has not acknowledged these events in
 * time: an alert whose own `alert.raised` is late, or one caused by a late event (the press).
 * Only `sms: fallback` alerts not yet sent nor acknowledged: `always` went when raised, and an
 * alert already sent is never sent twice (a PUBACK or a reconnect afterwards changes nothing).
 */
export function alertsForLateEvents(alerts: Iterable<StoredAlert>, late: readonly { id: string }[]): StoredAlert[] {
  const ids = new Set(late.map((e) => e.id));
  const due: StoredAlert[] = [];
  for (const a of alerts) {
    if (a.ackedAt || a.smsSentAt || a.sms !== 'fallback') continue;
    if (ids.has(a.alertId) || a.causes.some((c) => ids.has(c.id))) due.push(a);
  }
  return due;
}
