/**
 * What the root-side apply step (scripts/release/apply-update.ts) leaves for the agent:
 * `dataDir/update-result.json`, owned by the service user. The agent turns it into one event
 * (update.applied, update.rolled_back or update.refused) at its start and whenever the file
 * appears while it runs, then removes it: the county hears of every update attempt once the
 * event is stored, whoever runs afterwards (the new release, or the old one put back).
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { EventInput } from '../core/contracts/event.js';

export const UPDATE_RESULT_FILE = 'update-result.json';
export const updateResultFile = (dataDir: string) => join(dataDir, UPDATE_RESULT_FILE);

export const updateResultSchema = z.strictObject({
  v: z.literal(1),
  outcome: z.enum(['applied', 'rolled_back', 'refused']),
  from: z.string(),
  to: z.string(),
  /** null when applied; otherwise why (a probation that failed, a refused bundle). */
  reason: z.string().nullable(),
  /** The refusal's code (BAD_SIGNATURE, FILE_MISMATCH, ...), or PROBATION_FAILED; null when applied. */
  code: z.string().nullable(),
  probationSec: z.number(),
  at: z.string(),
});
export type UpdateResult = z.infer<typeof updateResultSchema>;

/** The event a result becomes. */
export function updateEvent(deviceId: string, r: UpdateResult): EventInput {
  const versions = { from: r.from, to: r.to, at: r.at };
  if (r.outcome === 'applied')
    return {
      deviceId,
      type: 'update.applied',
      priority: 'critical',
      data: { ...versions, probationSec: r.probationSec },
    };
  const data = { ...versions, reason: r.reason ?? 'unknown', code: r.code ?? 'UNKNOWN' };
  return r.outcome === 'refused'
    ? { deviceId, type: 'update.refused', priority: 'critical', data }
    : { deviceId, type: 'update.rolled_back', priority: 'critical', data };
}

/**
 * Takes the result file: the parsed result (null: none), or an unreadable file moved aside as
 * `update-result.json.bad` (kept for a technician) with a result saying so.
 */
export function takeUpdateResult(dataDir: string): { result: UpdateResult | null; problem: string | null } {
  const file = updateResultFile(dataDir);
  if (!existsSync(file)) return { result: null, problem: null };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
    return { result: updateResultSchema.parse(JSON.parse(text)), problem: null };
  } catch (err) {
    renameSync(file, `${file}.bad`);
    return {
      result: null,
      problem: `${UPDATE_RESULT_FILE} unreadable (kept as .bad): ${(err as Error).message.slice(0, 200)}`,
    };
  }
}

/** Forgets a result once its event is stored (not before: a full card reports it at the next start). */
export const forgetUpdateResult = (dataDir: string) => rmSync(updateResultFile(dataDir), { force: true });
