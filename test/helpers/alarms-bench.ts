/**
 * The local safety loop (LocalAlarms) on its own, with a fake clock (an edge we own) and
 * recording ports, as the escalation, SMS-priority and clock tests drive it: events it emits
 * are kept (committed at once, `beforeCommit` first, as the agent does), outputs written and
 * SMS texts sent are recorded, and `deliver` hands an event to its listeners as the bus would.
 */
import type { LocalAlarmsPorts } from '../../agent/alarms/local-alarms-ports.js';
import { LocalAlarms } from '../../agent/alarms/local-alarms.js';
import type { OutputCommand } from '../../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import type { SmsSender } from '../../core/contracts/sms.js';
import { testConfig, type TestConfigOver } from './agent-config.js';
import type { AlarmsInput, RuleInput } from './config-input.js';
import { eventMaker, FakeClock } from './events.js';
import { quietLogger } from './quiet-logger.js';

export interface AlarmsBenchOptions {
  dir: string;
  clock?: FakeClock;
  gateway?: TestConfigOver['gateway'];
  /** Laid over the rule every bench has: a press of a panic button raises "Panic at house 7" (cooldown 0). */
  rule?: Partial<RuleInput>;
  /** Laid over SMS to 13800138000. */
  alarms?: AlarmsInput;
  /** How long the uplink has been down (null: up); default: always up. */
  downForMs?: () => number | null;
  /** The modem; default: one that is ready and records the texts. */
  sender?: SmsSender;
  /** More ports (onAlarmsLate, keepAcknowledged). */
  ports?: Partial<LocalAlarmsPorts>;
}

/** A sender that is ready (a test may take it away) and records what it sends. */
export function recordingSender(texts: string[]): SmsSender & { ready: boolean } {
  return {
    ready: true,
    sendSms: async (_to, text) => (texts.push(text), { parts: 1, references: [1], encoding: 'gsm' }),
  };
}

export async function alarmsBench(o: AlarmsBenchOptions) {
  const clock = o.clock ?? new FakeClock();
  const make = eventMaker(o.dir, clock);
  const events: GatewayEvent[] = [];
  const writes: OutputCommand[] = [];
  const listeners: ((e: GatewayEvent) => void)[] = [];
  const texts: string[] = [];
  const sender = o.sender ?? recordingSender(texts);
  const config = testConfig('mqtt://127.0.0.1:1', o.dir, {
    gateway: o.gateway ?? { id: 'gw', name: 'Qingshan' },
    rules: [
      {
        id: 'panic',
        when: { type: 'alarm.pressed' },
        cooldownSec: 0,
        actions: [{ do: 'alert', message: 'Panic at house 7' }],
        ...o.rule,
      },
    ],
    alarms: { smsTo: ['13800138000'], ...o.alarms },
  });
  const alarms = new LocalAlarms({
    config,
    clock,
    logger: quietLogger(),
    emit: async (input: EventInput, beforeCommit?: (e: GatewayEvent) => void) => {
      const e = { ...make(input.priority, 0), type: input.type, deviceId: input.deviceId, data: input.data ?? {} };
      beforeCommit?.(e); // as the agent does: before the event can commit
      events.push(e);
      return e;
    },
    write: async (cmd) => void writes.push(cmd),
    subscribe: (l) => (listeners.push(l), () => {}),
    on: () => () => {}, // no key switch here
    uplinkDownForMs: o.downForMs ?? (() => null),
    smsSender: () => sender,
    ...o.ports,
  });
  await alarms.start();
  const deliver = (e: GatewayEvent) => {
    for (const l of listeners) l(e);
  };
  /** A press of house 7's panic button, as the bus hands it to the rules. */
  const pressEvent = (): GatewayEvent => ({ ...make('critical', 0), type: 'alarm.pressed', deviceId: 'house-7-panic' });
  return { alarms, clock, events, writes, texts, sender, deliver, pressEvent };
}
