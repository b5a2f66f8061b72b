/** Small field builders so every config error reads the same way: what was expected, what was got. */
import { z } from 'zod';

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
  b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3,
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

/**
 * A secret: inline (discouraged), from an environment variable, or from a file
 * (systemd credentials, a mounted secret). Resolved at load time.
 */
export const secretRef = z.union([
  z.string(),
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
]);
export type SecretRef = z.infer<typeof secretRef>;
