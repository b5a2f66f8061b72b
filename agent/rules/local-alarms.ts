/**
 * The local safety loop around the rule engine: runs rule actions (outputs at once, alerts
 * as critical events), keeps the active alerts, and takes acknowledgements: the county's
 * `ack` lights the pressing button's confirmation LED ("help is coming") and is recorded as
 * an event. Nothing here waits on the uplink or the outbox: outputs are driven first, events
 * are stored after.
 */
import type { Logger } from 'pino';
import type { Clock } from '../contracts/clock.js';
import type { OutputCommand } from '../contracts/driver.js';
import { GatewayError } from '../contracts/driver.js';
import type { EventInput, GatewayEvent } from '../contracts/event.js';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import type { RuleAction } from '../../config/schema/rules.js';
import { RuleEngine, type Firing } from './rule-engine.js';

export interface ActiveAlert {
  alertId: string;
  ruleId: string;
  deviceId: string;
  message: string;
  raisedAt: string;
  causes: { id: string; type: string; deviceId: string; data: Record<string, unknown> }[];
  ackedAt: string | null;
  ackedBy: string | null;
}

export interface LocalAlarmsPorts {
  config: GatewayConfig;
  clock: Clock;
  logger: Logger;
  /** Capture an event (bus at once, outbox after). */
  emit(e: EventInput): Promise<GatewayEvent>;
  write(cmd: OutputCommand): Promise<void>;
  subscribe(listener: (e: GatewayEvent) => void): () => void;
}

const TICK_MS = 200;

export class LocalAlarms {
  readonly engine: RuleEngine;
  readonly active = new Map<string, ActiveAlert>();
  outputsDriven = 0;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly ports: LocalAlarmsPorts) {
    const { config } = ports;
    const tagsByDevice = new Map<string, string[]>();
    for (const d of config.devices) {
      tagsByDevice.set(d.id, d.tags);
      if (d.driver === 'modbus') for (const [input, role] of Object.entries(d.inputs)) tagsByDevice.set(role.id ?? `${d.id}.${input}`, d.tags);
      if (d.driver === 'serial') for (const s of Object.values(d.sensors)) tagsByDevice.set(s.id, d.tags);
    }
    this.engine = new RuleEngine({
      rules: config.rules,
      clock: ports.clock,
      timezone: config.gateway.timezone,
      tagsOf: (id) => tagsByDevice.get(id) ?? [],
      devicesWithTag: (tag) => [...tagsByDevice].filter(([, tags]) => tags.includes(tag)).map(([id]) => id),
      run: (action, firing) => this.run(action, firing),
    });
  }

  start(): void {
    this.unsubscribe = this.ports.subscribe((e) => this.engine.onEvent(e));
    this.timer = setInterval(() => this.engine.tick(), TICK_MS);
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private run(action: RuleAction, firing: Firing): void {
    const { logger } = this.ports;
    if (action.do === 'output') {
      const cmd: OutputCommand = { deviceId: action.device, output: action.output, action: action.action, ...(action.durationMs !== undefined ? { durationMs: action.durationMs } : {}) };
      this.outputsDriven += 1;
      this.ports.write(cmd).catch((err: Error) => {
        logger.error({ err: err.message, rule: firing.rule.id, output: cmd }, 'rule output failed');
        void this.ports.emit({ deviceId: action.device, type: 'rule.action_failed', priority: 'high', data: { rule: firing.rule.id, output: action.output, error: err.message } }).catch(() => {});
      });
      return;
    }
    const causes = firing.causes.map((c) => ({ id: c.id, type: c.type, deviceId: c.deviceId, data: c.data }));
    void this.ports
      .emit({
        deviceId: firing.deviceId,
        type: 'alert.raised',
        priority: action.priority,
        data: { rule: firing.rule.id, message: action.message, reason: firing.reason, causes: causes.map((c) => ({ id: c.id, type: c.type, deviceId: c.deviceId })) },
      })
      .then((ev) => {
        this.active.set(ev.id, { alertId: ev.id, ruleId: firing.rule.id, deviceId: firing.deviceId, message: action.message, raisedAt: ev.ts, causes, ackedAt: null, ackedBy: null });
      })
      .catch((err: Error) => logger.error({ err: err.message, rule: firing.rule.id }, 'alert not stored'));
  }

  /**
   * An acknowledgement (the county's command, or a local key switch): lights the causing
   * button's LED where it has one, records it. Acknowledging twice is harmless.
   */
  async acknowledge(alertId: string, by: string): Promise<{ alertId: string; alreadyAcknowledged: boolean; led: string | null }> {
    const alert = this.active.get(alertId);
    if (!alert) throw new GatewayError('UNKNOWN_ALERT', `no active alert ${alertId}`);
    if (alert.ackedAt) return { alertId, alreadyAcknowledged: true, led: null };
    alert.ackedAt = new Date(this.ports.clock.now()).toISOString();
    alert.ackedBy = by;
    const pressed = alert.causes.find((c) => typeof c.data.led === 'string' && typeof c.data.device === 'string');
    let led: string | null = null;
    if (pressed) {
      led = `${String(pressed.data.device)}.${String(pressed.data.led)}`;
      await this.ports.write({ deviceId: String(pressed.data.device), output: String(pressed.data.led), action: 'on' }).catch((err: Error) => {
        this.ports.logger.error({ err: err.message, alertId }, 'confirmation LED could not be lit');
        led = null;
      });
    }
    await this.ports.emit({ deviceId: alert.deviceId, type: 'alert.acknowledged', priority: 'high', data: { alertId, rule: alert.ruleId, by, led } });
    return { alertId, alreadyAcknowledged: false, led };
  }
}
