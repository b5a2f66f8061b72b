/**
 * Names that end up in MQTT: the topic prefix every topic starts with, and the client id.
 * A prefix such as `v/+/x` validated before and then every PUBLISH was a protocol error: the
 * broker dropped each connection and the agent retried forever. These are refused at load,
 * each problem said once, with what was given.
 */
import { z } from 'zod';
import { textProblems } from './fields.js';

const show = (s: string) => JSON.stringify(s);
const MAX_PREFIX_BYTES = 200;

/** What keeps `s` from being a topic the gateway publishes to (a prefix, or a county's response topic). */
export function topicNameProblems(s: string): string[] {
  const out = textProblems(s);
  if (/[+#]/.test(s))
    out.push(
      `must not contain the MQTT wildcards + or # (they are not allowed in the topics the gateway publishes to) (got ${show(s)})`,
    );
  if (s.includes('//')) out.push(`must not contain an empty level "//" (got ${show(s)})`);
  return out;
}

export function topicPrefixProblems(s: string): string[] {
  const out = topicNameProblems(s);
  if (s.startsWith('/') || s.endsWith('/'))
    out.push(`must not start or end with "/" (the gateway adds "/events", "/cmd/..." itself) (got ${show(s)})`);
  if (s.startsWith('$')) out.push(`must not start with "$" (reserved for broker topics such as $SYS) (got ${show(s)})`);
  if (Buffer.byteLength(s, 'utf8') > MAX_PREFIX_BYTES) out.push(`must be at most ${MAX_PREFIX_BYTES} bytes`);
  return out;
}

export function clientIdProblems(s: string): string[] {
  const out = textProblems(s);
  // Brokers substitute the client id into ACL patterns (Mosquitto's %c): a wildcard or a "/"
  // there would widen or shift what the gateway may publish and subscribe to.
  if (/[+#/]/.test(s))
    out.push(`must not contain +, # or / (brokers put the client id into topic ACL patterns) (got ${show(s)})`);
  return out;
}

const checked = (base: z.ZodString, problems: (s: string) => string[]) =>
  base.superRefine((s, ctx) => {
    for (const message of problems(s)) ctx.addIssue({ code: 'custom', message, input: s });
  });

export const topicPrefixSchema = checked(z.string().min(1), topicPrefixProblems);
export const clientIdSchema = checked(z.string().min(1).max(64), clientIdProblems);
