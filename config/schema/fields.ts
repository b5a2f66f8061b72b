/** Small field builders so every config error reads the same way: what was expected, what was got. */
import { z } from 'zod';
import { PHONE_NUMBER } from '../../core/contracts/sms.js';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** An integer in [min, max]; errors read `must be 1..247 (got 0)`. */
export const intIn = (min: number, max: number) =>
  z
    .number({ error: (iss) => `must be a number (got ${show(iss.input)})` })
    .refine((v) => Number.isInteger(v) && v >= min && v <= max, {
      error: (iss) => `must be ${min}..${max} (got ${show(iss.input)})`,
    });

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i;
const UNIT: Record<string, number> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** A byte size as a number or a string such as "256MiB" or "2 GB". */
export const byteSize = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? SIZE.exec(v.trim()) : null;
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `must be a byte size such as 268435456 or "256MiB" (got ${show(v)})` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * UNIT[(m[2] ?? 'b').toLowerCase()]!);
});

/** C0 and C1 control characters (NUL included) and lone UTF-16 surrogates (not encodable as UTF-8). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /\p{Cs}/u;

/** What is wrong with a string that will go on the wire or to the OS as text; empty when nothing is. */
export function textProblems(s: string): string[] {
  const out: string[] = [];
  const c = CONTROL.exec(s);
  if (c)
    out.push(
      `must not contain control characters (U+${c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at character ${c.index + 1}) (got ${show(s)})`,
    );
  if (LONE_SURROGATE.test(s)) out.push(`must be valid Unicode text (it has a lone surrogate) (got ${show(s)})`);
  return out;
}

/** A file system path: a NUL byte would make every fs call throw, so it is refused here. */
export const pathString = z
  .string()
  .min(1)
  .superRefine((s, ctx) => {
    for (const message of textProblems(s)) ctx.addIssue({ code: 'custom', message, input: s });
  });

/**
 * A secret: inline (discouraged), from an environment variable, or from a file
 * (systemd credentials, a mounted secret). Resolved at load time.
 */
export const secretRef = z.union([
  z.string(),
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: pathString }),
]);
export type SecretRef = z.infer<typeof secretRef>;

/** A phone number for SMS; the modem driver checks the same pattern before it dials. */
export const phoneNumberSchema = z
  .string()
  .regex(PHONE_NUMBER, { error: 'must be a phone number such as +8613800138000' });
