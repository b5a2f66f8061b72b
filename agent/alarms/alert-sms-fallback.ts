/**
 * When an alert goes by SMS, and the sending: the uplink down too long (`smsWhenUplinkDownSec`),
 * nobody acknowledged it in time (escalation), the broker has not acknowledged its events in
 * time (alarm-deadlines.ts), or the disk could not keep it (lost-alarms.ts). An alert goes by
 * SMS once: `smsSentAt` is set and saved before its message is queued, so neither a restart
 * nor a later cue sends it twice. The texts and budgets are in alert-sms.ts and sms-queue.ts.
 */
import type { Clock } from '../../core/kernel/clock.js';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import type { StoredAlert } from './alarm-state.js';
import type { SmsQueue } from './sms-queue.js';
import { alertSmsText, alertsForLateEvents, smsKindOf } from './alert-sms.js';

export interface AlertSmsPorts {
  config: GatewayConfig;
  clock: Clock;
  /** How long the uplink has been down, monotonic (null: up). */
  uplinkDownForMs(): number | null;
  /** Saves the alarm state (the alert's `smsSentAt`). */
  save(): Promise<void>;
  /** The SMS queue, once the alarms have started. */
  queue(): SmsQueue | null;
}

export class AlertSmsFallback {
  constructor(private readonly ports: AlertSmsPorts) {}

  /** The uplink down too long, or no acknowledgement in time; `raisedMono`: alertId -> monotonic ms raised. */
  async check(alerts: Iterable<StoredAlert>, raisedMono: ReadonlyMap<string, number>): Promise<void> {
    const { alarms } = this.ports.config;
    const down = this.ports.uplinkDownForMs();
    const mono = this.ports.clock.monoMs();
    for (const a of alerts) {
      if (a.ackedAt || a.sms === 'never') continue;
      const raised = raisedMono.get(a.alertId) ?? mono;
      if (!a.smsSentAt && down !== null && down >= alarms.smsWhenUplinkDownSec * 1000)
        await this.send(a, `uplink down for ${Math.round(down / 1000)} s`);
      else if (
        !a.escalatedAt &&
        !a.smsSentAt &&
        alarms.escalateAfterSec > 0 &&
        mono - raised >= alarms.escalateAfterSec * 1000
      ) {
        a.escalatedAt = new Date(this.ports.clock.now()).toISOString();
        await this.send(a, `not acknowledged after ${alarms.escalateAfterSec} s`);
      }
    }
  }

  /** Alarms the broker has not acknowledged in time: their alerts go now, not after smsWhenUplinkDownSec. */
  async late(alerts: Iterable<StoredAlert>, late: readonly { id: string }[], reason: string): Promise<void> {
    for (const a of alertsForLateEvents(alerts, late)) await this.send(a, reason);
  }

  /**
   * An alarm the disk could not keep: its alert goes now, link up or not, since the county will
   * not get it. An id that is no alert (a press) is left to the alert its rule raised.
   */
  async unstored(a: StoredAlert | undefined): Promise<void> {
    if (a && !a.ackedAt && !a.smsSentAt && a.sms !== 'never') await this.send(a, 'not stored: disk full');
  }

  async send(a: StoredAlert, reason: string): Promise<void> {
    const { config, clock } = this.ports;
    a.smsSentAt ??= new Date(clock.now()).toISOString();
    await this.ports.save();
    const queue = this.ports.queue();
    if (config.alarms.smsTo.length === 0 || !queue) return;
    await queue.enqueue(config.alarms.smsTo, alertSmsText(config, a), a.alertId, reason, smsKindOf(a));
  }
}
