/** The local alarms: alerts raised by rules and their acknowledgements, rule outputs, SMS. */
import { z } from 'zod';
import { spec } from './define.js';

const smsFacts = {
  to: z.string(),
  alertId: z.string().nullable().describe('The alert it tells of (null: not about one alert)'),
  reason: z.string().describe('Why it was sent (uplink down, escalation, a rule, storage failed)'),
  attempts: z.int().min(0),
};

const sirenResult = z.union([
  z.strictObject({ device: z.string(), output: z.string(), ok: z.literal(true) }),
  z.strictObject({ device: z.string(), output: z.string(), ok: z.literal(false), error: z.string() }),
]);

export const alarmEvents = {
  'alert.raised': spec(
    'critical',
    z.strictObject({
      rule: z.string(),
      message: z.string(),
      reason: z.string(),
      causes: z
        .array(z.strictObject({ id: z.string(), type: z.string(), deviceId: z.string() }))
        .describe("The events that fired the rule (a flow's alert: the event its message came with, if any)"),
      origin: z
        .strictObject({
          flowId: z.string(),
          flowName: z.string().optional(),
          nodeId: z.string(),
          nodeName: z.string().optional(),
        })
        .optional()
        .describe('rule `flow` only: the Node-RED flow and node that raised the alert'),
    }),
    "a rule's `alert` action (its priority is the action's: critical or high), or a flow's `village alert` (rule `flow`)",
  ),
  'alert.acknowledged': spec(
    'high',
    z.strictObject({
      alertId: z.string(),
      rule: z.string(),
      by: z.string(),
      led: z.string().nullable().describe('The "help is coming" LED lit (device.output)'),
    }),
    'an alert was acknowledged (the county, or the local key switch)',
  ),
  'alert.led_off': spec(
    'normal',
    z.strictObject({
      alertId: z.string().describe("The acknowledged alert's id (its alert.raised event's)"),
      led: z.string().describe('The "help is coming" LED put out (device.output)'),
      why: z
        .enum(['time', 'clear', 'reset'])
        .describe("alarms.helpLed's offAfterSec ran out, the county's `clear`, or the button reset on site"),
    }),
    'the "help is coming" LED an ack lit went out again',
  ),
  'rule.action_failed': spec(
    'high',
    z.strictObject({ rule: z.string(), output: z.string(), error: z.string() }),
    "a rule's output could not be driven",
  ),
  'alarm.siren_test': spec('normal', z.strictObject({ results: z.array(sirenResult) }), 'the `siren-test` command ran'),
  'sms.sent': spec(
    'high',
    z.strictObject({ ...smsFacts, parts: z.int().min(1), references: z.array(z.int()), encoding: z.string() }),
    'an SMS went out',
  ),
  'sms.failed': spec(
    'high',
    z.strictObject({
      ...smsFacts,
      error: z.string(),
      code: z.string().nullable(),
      cms: z.union([z.string(), z.number(), z.boolean()]).nullable().describe("The network's +CMS cause"),
    }),
    'an SMS was given up on',
  ),
};
