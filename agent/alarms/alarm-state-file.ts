/**
 * What alarms.json may hold, checked when it is read: a file that does not parse, or parses
 * to the wrong shape (`{"version":1,"alerts":5}` crash-looped the agent), is kept aside and
 * reported, and the agent starts with no remembered alarm state rather than none at all.
 * Objects inside are checked for the fields the agent relies on and may carry more (a newer
 * release's), so a downgrade does not throw a good file away.
 */
import { existsSync, readFileSync } from 'node:fs';
import { keepAside } from '../durable-file.js';
import { z } from 'zod';

const when = z.string().nullable();
const alert = z.looseObject({
  alertId: z.string(),
  ruleId: z.string(),
  deviceId: z.string(),
  message: z.string(),
  raisedAt: z.string(),
  raisedAtMs: z.number(),
  causes: z.array(
    z.looseObject({ id: z.string(), type: z.string(), deviceId: z.string(), data: z.record(z.string(), z.unknown()) }),
  ),
  sms: z.enum(['always', 'fallback', 'never']),
  ackedAt: when,
  ackedBy: when,
  escalatedAt: when,
  smsSentAt: when,
});
const pulse = z.looseObject({
  device: z.string(),
  output: z.string(),
  untilMs: z.number(),
  durationMs: z.number().optional(),
});
const led = z.looseObject({
  alertId: z.string(),
  device: z.string(),
  output: z.string(),
  button: z.string(),
  offAtMs: z.number().nullable(),
  forMs: z.number().nullable(),
  atReset: z.boolean(),
});
const sms = z.looseObject({
  id: z.string(),
  to: z.string(),
  text: z.string(),
  alertId: z.string().nullable(),
  reason: z.string(),
  attempts: z.number(),
  notBeforeMs: z.number(),
  kind: z.enum(['alarm', 'flow']).optional().catch(undefined), // unknown: an alarm's, never dropped
});

export const alarmStateFileSchema = z.looseObject({
  version: z.literal(1),
  alerts: z.array(alert).default([]),
  lastFired: z.record(z.string(), z.number()).default({}),
  pulses: z.array(pulse).default([]),
  sms: z.array(sms).default([]),
  leds: z.array(led).default([]), // absent in files written before LEDs went out
});

export interface StateFileProblem {
  file: string;
  problem: string;
  keptAs: string | null;
}

/** The parsed file, null when there is none, or the problem (the bad file moved aside). */
export function readAlarmStateFile(
  file: string,
  now: () => number = Date.now,
): { data: z.infer<typeof alarmStateFileSchema> | null; problem: StateFileProblem | null } {
  if (!existsSync(file)) return { data: null, problem: null };
  let problem: string;
  try {
    const parsed = alarmStateFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return { data: parsed.data, problem: null };
    const issue = parsed.error.issues[0];
    problem = `not an alarm state file: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`;
  } catch (err) {
    problem = `unreadable: ${(err as Error).message}`;
  }
  // If it cannot be moved, the next save overwrites it (what a restart did before).
  return { data: null, problem: { file, problem, keptAs: keepAside(file, now) } };
}
