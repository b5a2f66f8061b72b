/**
 * The local safety loop around the rule engine. It runs rule actions (outputs first, then
 * alerts as critical events) and keeps the active alerts. It sends alerts by SMS when the
 * uplink has been down too long (or always, per rule), and escalates alerts nobody
 * acknowledged. It takes acknowledgements: the county's `ack`, or a local key switch. The
 * county's `ack` lights the pressing button's LED ("help is coming"), out again by the config's
 * rule (help-leds.ts) or the county's `clear`.
 *
 * Nothing here waits on the uplink or the outbox. Its state survives a restart (alarm-state.ts):
 * a reboot does not forget an alert, re-fire a rule still in cooldown, or cut a pulse short.
 *
 * Timing runs on the monotonic clock (escalation, pulses, the uplink's down time): NTP after
 * days offline, or a Pi without an RTC, can move the wall clock by days, and that must neither
 * send an SMS nor hold one back. The wall clock is kept only where time must outlive a
 * restart (the persisted state), and what is restored from it is clamped, so a clock that was
 * set back meanwhile cannot stretch a wait or a siren pulse.
 */
import type { OutputCommand } from '../../core/contracts/driver.js';
import { GatewayError, failure } from '../../core/kernel/errors.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { deviceTags } from '../../config/device-tags.js';
import type { RuleAction } from '../../config/schema/rules.js';
import { RuleEngine, type Firing } from '../rules/rule-engine.js';
import { acknowledgedToForget, type StoredAlert, type StoredPulse } from './alarm-state.js';
import {
  AlarmStateSaver,
  dropEndedPulses,
  openSavedState,
  restoreTimings,
  resumedPulses,
} from './alarm-state-saver.js';
import { SmsQueue } from './sms-queue.js';
import { isStorageRefusal } from '../../core/contracts/outbox-store.js';
import { FLOW_RULE_ID } from './alert-sms.js';
import { AlertSmsFallback } from './alert-sms-fallback.js';
import { flowReason, flowTold, type FlowTold } from './flow-alert.js';
import type { FlowAlert } from '../../core/contracts/nodered-ipc.js';
import { HelpLeds } from './help-leds.js';
import { PRESS_RULE_ID, PressCoverage } from './press-alerts.js';
import { textsFor } from '../i18n/texts.js';
import type { LocalAlarmsPorts } from './local-alarms-ports.js';

export type ActiveAlert = StoredAlert;

export type { LocalAlarmsPorts } from './local-alarms-ports.js';

const TICK_MS = 200;
const SMS_CHECK_MS = 1000;

export class LocalAlarms {
  readonly engine: RuleEngine;
  readonly active = new Map<string, ActiveAlert>();
  sms: SmsQueue | null = null;
  outputsDriven = 0;
  acks = 0;
  private state: AlarmStateSaver | null = null;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void)[] = [];
  /** alertId -> monotonic ms it was raised at (escalation timing). */
  private raisedMono = new Map<string, number>();
  /** Pulse record -> monotonic ms it ends at. */
  private pulseEnds = new Map<StoredPulse, number>();
  /** Pulses found in the state at start, resumed (or ended) once the drivers are up. */
  private restoredPulses: StoredPulse[] = [];
  private readonly fallback: AlertSmsFallback;
  private readonly leds: HelpLeds;
  private readonly presses = new PressCoverage();

  constructor(private readonly ports: LocalAlarmsPorts) {
    const { config } = ports;
    this.fallback = new AlertSmsFallback({ ...ports, save: () => this.persist(), queue: () => this.sms });
    this.leds = new HelpLeds({ ...ports, rule: config.alarms.helpLed });
    const tagsByDevice = deviceTags(config);
    this.engine = new RuleEngine({
      rules: config.rules,
      clock: ports.clock,
      timezone: config.gateway.timezone,
      tagsOf: (id) => tagsByDevice.get(id) ?? [],
      devicesWithTag: (tag) => [...tagsByDevice].filter(([, tags]) => tags.includes(tag)).map(([id]) => id),
      run: (action, firing) => this.run(action, firing),
      onFired: (ruleId, deviceId) => {
        if (!this.state) return;
        this.state.data.lastFired[`${ruleId}|${deviceId}`] = ports.clock.now();
        this.state.soon();
      },
    });
  }

  /** Restores what a restart must not lose, then listens. Call before the drivers start. */
  async start(): Promise<void> {
    const { config, clock } = this.ports;
    const db = await openSavedState(config.dataDir, { ...this.ports, gatewayId: config.gateway.id });
    const notSaved = (file: string, err: Error) =>
      this.ports.notSaved
        ? this.ports.notSaved(file, err)
        : this.ports.logger.error(failure('STATE_NOT_SAVED', err, { file }), 'alarm state not saved');
    this.state = new AlarmStateSaver(
      db,
      () => this.forgetAcknowledged(),
      (err) => notSaved('alarms.json', err),
    );
    const data = this.state.data;
    const now = clock.now();
    for (const a of data.alerts) this.active.set(a.alertId, a);
    ({ raisedMono: this.raisedMono, pulseEnds: this.pulseEnds } = restoreTimings(data, clock));
    this.restoredPulses = [...data.pulses];
    this.leds.attach(this.state);
    for (const [key, firedAt] of Object.entries(data.lastFired)) {
      const [ruleId, deviceId] = key.split('|') as [string, string];
      this.engine.restoreCooldown(ruleId, deviceId, now - firedAt);
    }
    this.sms = new SmsQueue({
      state: db,
      notSaved: (err) => notSaved('alarms.json (SMS queue)', err),
      sender: this.ports.smsSender,
      clock,
      logger: this.ports.logger.child({ queue: 'sms' }), // under part: 'alarms' (a second part would be a second key)
      emit: this.ports.emit,
      gatewayId: config.gateway.id,
      perHour: config.alarms.smsPerHour,
      flowPerHour: config.alarms.flowSmsPerHour,
    });
    this.sms.start();
    this.unsubscribe.push(
      this.ports.subscribe((e) => {
        this.engine.onEvent(e);
        if (this.presses.needsAlert(e, this.active.values())) this.raiseForPress(e);
      }),
      this.ports.on('alarm.ack_key', () => void this.acknowledgeAll('local key switch')),
      this.ports.on('alarm.pressed', (e) => this.leds.input(e.type, e.deviceId)),
      this.ports.on('alarm.released', (e) => this.leds.input(e.type, e.deviceId)),
    );
    const late = this.ports.onAlarmsLate?.((events, why) =>
      this.fallback
        .late(this.active.values(), events, why)
        .catch((err: Error) => this.ports.logger.error(failure('SMS_NOT_QUEUED', err), 'SMS not queued')),
    );
    if (late) this.unsubscribe.push(late);
    this.timers.push(setInterval(() => this.engine.tick(), TICK_MS));
    this.timers.push(setInterval(() => void this.checkSms(), SMS_CHECK_MS));
    const open = [...this.active.values()].filter((a) => !a.ackedAt).length;
    if (open > 0) this.ports.logger.info({ active: open }, 'alerts still active from before the restart');
    await this.persist();
  }

  /**
   * Pulses the gateway was timing when it stopped: finished for what is left of them, or
   * ended if a crash left one on. Call once the buses and drivers are up.
   */
  resumeOutputs(): void {
    if (!this.state) return;
    const mono = this.ports.clock.monoMs();
    for (const cmd of resumedPulses(this.restoredPulses.splice(0), this.pulseEnds, mono))
      void this.ports
        .write(cmd)
        .catch((err: Error) =>
          this.ports.logger.error(failure('OUTPUT_FAILED', err, { output: cmd }), 'could not resume a pulse'),
        );
    this.prunePulses(mono);
    this.leds.resume();
    void this.persist();
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.sms?.stop();
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Just before each save: the alerts to keep, all but the oldest acknowledged ones. */
  private forgetAcknowledged(): void {
    for (const id of acknowledgedToForget([...this.active.values()], this.ports.keepAcknowledged))
      this.active.delete(id);
    this.state!.data.alerts = [...this.active.values()];
  }

  private persist(): Promise<void> {
    return this.state?.now() ?? Promise.resolve();
  }

  private run(action: RuleAction, firing: Firing): void {
    const { logger, clock } = this.ports;
    if (action.do === 'output') {
      const cmd: OutputCommand = {
        deviceId: action.device,
        output: action.output,
        action: action.action,
        ...(action.durationMs !== undefined ? { durationMs: action.durationMs } : {}),
      };
      this.outputsDriven += 1;
      if (action.action === 'pulse' && this.state) {
        const pulse: StoredPulse = {
          device: action.device,
          output: action.output,
          untilMs: clock.now() + action.durationMs!,
          durationMs: action.durationMs!,
        };
        this.state.data.pulses.push(pulse);
        this.pulseEnds.set(pulse, clock.monoMs() + action.durationMs!);
        this.state.soon();
      }
      this.ports.write(cmd).catch((err: Error) => {
        logger.error(failure('OUTPUT_FAILED', err, { rule: firing.rule.id, output: cmd }), 'rule output failed');
        void this.ports
          .emit({
            deviceId: action.device,
            type: 'rule.action_failed',
            priority: 'high',
            data: { rule: firing.rule.id, output: action.output, error: err.message },
          })
          .catch((e: Error) => this.ports.logger.error(failure('STORAGE_FAILED', e), 'rule.action_failed not stored'));
      });
      return;
    }
    if (action.do === 'sms') {
      const to = action.to ?? this.ports.config.alarms.smsTo;
      if (to.length === 0)
        logger.warn(
          failure('NO_SMS_NUMBERS', null, { rule: firing.rule.id }),
          'sms action with no numbers (alarms.smsTo is empty)',
        );
      else
        void this.sms
          ?.enqueue(to, action.text, null, `rule ${firing.rule.id}`)
          .catch((err: Error) => logger.error(failure('SMS_NOT_QUEUED', err), 'SMS not queued'));
      return;
    }
    if (action.do === 'snapshot') {
      const last = firing.causes.at(-1);
      this.ports.snapshot?.(action.camera, action.channel, {
        rule: firing.rule.id,
        event: last?.id ?? null,
        type: last?.type ?? null,
      });
      return;
    }
    this.presses.covered(firing.causes);
    const causes = firing.causes.map((c) => ({ id: c.id, type: c.type, deviceId: c.deviceId, data: c.data }));
    this.raise({
      ruleId: firing.rule.id,
      deviceId: firing.deviceId,
      message: action.message,
      priority: action.priority,
      reason: firing.reason,
      causes,
      sms: firing.rule.sms,
    }).catch((err: Error) => this.notStored(err, firing.rule.id));
  }

  /** A press no rule raised an alert for gets its own (press-alerts.ts), so the county can acknowledge it. */
  private raiseForPress(e: GatewayEvent): void {
    const raised = this.raise({
      ruleId: PRESS_RULE_ID,
      deviceId: e.deviceId,
      message: textsFor(this.ports.config.alarms.smsLanguage).sms.pressNoRule,
      priority: 'critical',
      reason: 'no rule raised an alert for this press',
      causes: [{ id: e.id, type: e.type, deviceId: e.deviceId, data: e.data }],
      sms: 'fallback',
    });
    this.presses.raisingFor(e.deviceId, raised).catch((err: Error) => this.notStored(err, PRESS_RULE_ID));
  }

  private notStored(err: Error, rule: string): void {
    // A full disk: counted, reported lost and sent by SMS (lost-alarms.ts), logged once a second there.
    if (!isStorageRefusal(err)) this.ports.logger.error(failure('STORAGE_FAILED', err, { rule }), 'alert not stored');
  }

  /**
   * An alert from a Node-RED flow (`village alert`): raised, remembered, acknowledged and sent
   * by SMS exactly like a rule's (rule `flow`). Resolves with its id once it is durable.
   */
  async raiseFlowAlert({ origin, cause, ...a }: FlowAlert): Promise<string> {
    // The cause is told to the county, never used to light a button's LED: a flow may name any event.
    const told = flowTold(origin, cause);
    return (await this.raise({ ruleId: FLOW_RULE_ID, reason: flowReason(origin), causes: [], ...a }, told)).id;
  }

  private raise(
    a: {
      ruleId: string;
      deviceId: string;
      message: string;
      priority: 'critical' | 'high';
      reason: string;
      causes: ActiveAlert['causes'];
      sms: ActiveAlert['sms'];
    },
    told: FlowTold = {},
  ): Promise<GatewayEvent> {
    const { clock } = this.ports;
    // The alert is recorded in the alarm state (fsynced) before its event can commit: a crash
    // in between must not leave the county an alert the gateway does not know (its ack would
    // find no LED to light and no escalation to stop).
    const record = (ev: GatewayEvent) => {
      this.raisedMono.set(ev.id, clock.monoMs());
      this.active.set(ev.id, {
        alertId: ev.id,
        ruleId: a.ruleId,
        deviceId: a.deviceId,
        message: a.message,
        raisedAt: ev.ts,
        raisedAtMs: clock.now(),
        causes: a.causes,
        sms: a.sms,
        ackedAt: null,
        ackedBy: null,
        escalatedAt: null,
        smsSentAt: null,
      });
      void this.persist();
    };
    return this.ports
      .emit(
        {
          deviceId: a.deviceId,
          type: 'alert.raised',
          priority: a.priority,
          data: {
            rule: a.ruleId,
            message: a.message,
            reason: a.reason,
            causes: told.causes ?? a.causes.map((c) => ({ id: c.id, type: c.type, deviceId: c.deviceId })),
            ...(told.origin ? { origin: told.origin } : {}),
          },
        },
        record,
      )
      .then(async (ev) => {
        if (a.sms === 'always') await this.fallback.send(this.active.get(ev.id)!, 'rule says always');
        else await this.checkSms();
        return ev;
      });
  }

  /** SMS fallback (uplink down too long) and escalation (not acknowledged in time); runs every second. */
  async checkSms(): Promise<void> {
    this.prunePulses(this.ports.clock.monoMs());
    this.leds.expire();
    await this.fallback.check(this.active.values(), this.raisedMono);
  }

  /** The SMS fallback for an alarm the disk could not keep (lost-alarms.ts), by its event id. */
  async smsForUnstored(eventId: string): Promise<void> {
    await this.fallback.unstored(this.active.get(eventId));
  }

  /** Forgets pulses that have ended (monotonic: a wall-clock jump neither ends nor prolongs one). */
  private prunePulses(mono: number): void {
    if (this.state && dropEndedPulses(this.state.data, this.pulseEnds, mono)) void this.persist();
  }

  /**
   * An acknowledgement from the county: lights the causing button's LED where it has one,
   * stops escalation, records it. Acknowledging twice is harmless.
   */
  async acknowledge(
    alertId: string,
    by: string,
  ): Promise<{ alertId: string; alreadyAcknowledged: boolean; led: string | null }> {
    const alert = this.active.get(alertId);
    if (!alert) throw new GatewayError('UNKNOWN_ALERT', `no active alert ${alertId}`);
    if (alert.ackedAt) return { alertId, alreadyAcknowledged: true, led: null };
    alert.ackedAt = new Date(this.ports.clock.now()).toISOString();
    alert.ackedBy = by;
    this.raisedMono.delete(alertId);
    this.acks += 1;
    await this.persist();
    const led = await this.leds.light(alert);
    await this.ports.emit({
      deviceId: alert.deviceId,
      type: 'alert.acknowledged',
      priority: 'high',
      data: { alertId, rule: alert.ruleId, by, led },
    });
    return { alertId, alreadyAcknowledged: false, led };
  }

  /** The county's `clear`: the acknowledged alert's LED goes out now (`wasLit` false: its time was already up). */
  async clear(alertId: string): Promise<{ alertId: string; led: string | null; wasLit: boolean }> {
    const alert = this.active.get(alertId);
    if (!alert) throw new GatewayError('UNKNOWN_ALERT', `no alert ${alertId} (the id of its alert.raised event)`);
    if (!alert.ackedAt)
      throw new GatewayError('NOT_ACKNOWLEDGED', `alert ${alertId} is not acknowledged: no LED to clear`);
    const led = await this.leds.clear(alertId);
    return { alertId, led, wasLit: led !== null };
  }

  /** A local acknowledgement (technician's key switch): every alert still open. */
  async acknowledgeAll(by: string): Promise<number> {
    let n = 0;
    for (const a of this.active.values()) {
      if (a.ackedAt) continue;
      await this.acknowledge(a.alertId, by);
      n += 1;
    }
    return n;
  }
}
