/** Zod issues as `path: message` lines a technician can act on, e.g. `devices[2].unitId: must be 1..247 (got 0)`. */
import type { z } from 'zod';
import { nearest } from './did-you-mean.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export const formatProblem = (p: ConfigProblem): string => (p.path ? `${p.path}: ${p.message}` : p.message);

/** `['devices', 2, 'unitId']` -> `devices[2].unitId` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/**
 * Flattens zod issues into path + message, reading unions and unknown keys the way a person
 * would. `keysAt` gives the keys allowed at an object's path, for "did you mean".
 */
export function problemsFromZod(
  error: z.ZodError,
  keysAt: (path: readonly PropertyKey[]) => string[] = () => [],
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const walk = (issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]) => {
    for (const iss of issues) {
      const path = [...prefix, ...iss.path];
      if (iss.code === 'unrecognized_keys') {
        for (const key of iss.keys) {
          const near = nearest(key, keysAt(path));
          const message =
            near === undefined ? 'unknown key (check the spelling)' : `unknown key (did you mean "${near}"?)`;
          out.push({ path: formatPath([...path, key]), message });
        }
      } else if (iss.code === 'invalid_union' && iss.errors.length > 0 && iss.errors.every((e) => e.length > 0)) {
        // Report the branch that got furthest (the one with the deepest first issue).
        const best = [...iss.errors].sort((a, b) => depth(b) - depth(a))[0]!;
        walk(best, path);
      } else if (iss.code === 'invalid_union' && 'note' in iss && iss.note === 'No matching discriminator') {
        const key = (iss as { discriminator?: string }).discriminator ?? 'type';
        const full = path[path.length - 1] === key ? path : [...path, key];
        const options = (iss as { options?: unknown[] }).options;
        const input = (iss as { input?: Record<string, unknown> }).input;
        const got = input && typeof input === 'object' ? ` (got ${JSON.stringify(input[key]) ?? 'nothing'})` : '';
        out.push({
          path: formatPath(full),
          message: `${options ? `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : 'unknown or missing kind'}${got}`,
        });
      } else {
        out.push({ path: formatPath(path), message: humanize(iss) });
      }
    }
  };
  walk(error.issues, []);
  return out;
}

const depth = (issues: readonly z.core.$ZodIssue[]) => Math.max(...issues.map((i) => i.path.length));

function humanize(iss: z.core.$ZodIssue): string {
  if (iss.code === 'invalid_type' && iss.message.startsWith('Invalid input: expected')) {
    return iss.message.includes('received undefined')
      ? `required (${iss.expected})`
      : iss.message.replace('Invalid input: expected', 'must be');
  }
  if (iss.code === 'invalid_value') {
    const got = 'input' in iss && iss.input !== undefined ? ` (got ${JSON.stringify(iss.input)})` : '';
    return iss.values.length === 1
      ? `must be ${JSON.stringify(iss.values[0])}${got}`
      : `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
  }
  return iss.message;
}
