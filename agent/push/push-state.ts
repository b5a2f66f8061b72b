/**
 * The durable record of a county push (config.apply), in the data folder, so that a judgement
 * outlives the agent it judges: if the pushed config crashes the agent (or the power goes)
 * during its probation, the next start finds the record and rolls back; once the previous
 * config runs again it reports why. `<file>.pre-push` keeps the config the push replaced.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileDurably } from '../durable-file.js';

/** How long a pushed config must prove itself (seconds) unless the push says otherwise. */
export const DEFAULT_PROBATION_SEC = 120;

/** A config text's short hash, as loadConfig computes it (the hash the county sees). */
export const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

export const prePushFile = (file: string) => `${file}.pre-push`;
export const pushStateFile = (dataDir: string) => join(dataDir, 'config-push.json');

const stateSchema = z.object({
  phase: z.enum(['probation', 'rolled_back']),
  hash: z.string(),
  previousHash: z.string(),
  by: z.string(),
  /** The county key that signed the push (null: commands were not signed; absent in records from before). */
  keyId: z.string().nullable().default(null),
  /** Wall-clock ms when the new file was written: the window is judged across restarts. */
  since: z.number(),
  probationSec: z.number(),
  /** Devices online when the push came (and still in the new config): each must be seen online again. */
  devicesOnline: z.array(z.string()),
  reason: z.string().optional(),
});
export type PushState = z.infer<typeof stateSchema>;

/** The record, or null when there is none (or it is unreadable: a torn record judges nothing). */
export function readPushState(dataDir: string): PushState | null {
  const file = pushStateFile(dataDir);
  if (!existsSync(file)) return null;
  try {
    const r = stateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export const writePushState = (dataDir: string, s: PushState) =>
  writeFileDurably(pushStateFile(dataDir), JSON.stringify(s));

export const clearPushState = (dataDir: string) => rmSync(pushStateFile(dataDir), { force: true });

/** What `status` shows of a push (null when none is pending). */
export function pushStatus(s: PushState | null, now = Date.now()) {
  if (!s) return null;
  const left = Math.max(0, Math.ceil((s.since + s.probationSec * 1000 - now) / 1000));
  return {
    phase: s.phase,
    hash: s.hash,
    previousHash: s.previousHash,
    by: s.by,
    since: new Date(s.since).toISOString(),
    probationLeftSec: left,
  };
}
