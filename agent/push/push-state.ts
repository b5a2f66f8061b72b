/**
 * The durable records of county pushes (config.apply, flows.apply), in the data folder, so that
 * a judgement outlives the agent it judges: if the pushed config crashes the agent (or the power
 * goes) during its probation, the next start finds the record and rolls back; once the previous
 * config runs again it reports why. `<file>.pre-push` keeps the config the push replaced. One
 * record per kind (config-push.json, flows-push.json); only one push of either kind is judged
 * at a time (pushOnProbation), so a rollback never has two causes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileDurably } from '../durable-file.js';

/** How long a pushed config or flow file must prove itself (seconds) unless the push says otherwise. */
export const DEFAULT_PROBATION_SEC = 120;

export type PushKind = 'config' | 'flows';
const KINDS: PushKind[] = ['config', 'flows'];

/** A text's (or a file's bytes') short hash, as loadConfig computes it (the hash or revision the county sees). */
export const hashOf = (data: string | Buffer) => createHash('sha256').update(data).digest('hex').slice(0, 12);

export const prePushFile = (file: string) => `${file}.pre-push`;
export const pushStateFile = (dataDir: string, kind: PushKind = 'config') => join(dataDir, `${kind}-push.json`);

/** What every push records: the flows' record is just this; a config push adds the devices to see again. */
export const basePushState = z.object({
  phase: z.enum(['probation', 'rolled_back']),
  /** The pushed file's hash (a config's hash, a flow file's revision). */
  hash: z.string(),
  previousHash: z.string(),
  by: z.string(),
  /** The county key that signed the push (null: commands were not signed; absent in records from before). */
  keyId: z.string().nullable().default(null),
  /** Wall-clock ms when the new file was written: the window is judged across restarts. */
  since: z.number(),
  probationSec: z.number(),
  reason: z.string().optional(),
});
export type BasePushState = z.infer<typeof basePushState>;

const stateSchema = basePushState.extend({
  /** Devices online when the push came (and still in the new config): each must be seen online again. */
  devicesOnline: z.array(z.string()),
});
export type PushState = z.infer<typeof stateSchema>;

/** A kind's record, or null when there is none (or it is unreadable: a torn record judges nothing). */
function readRecord<T>(dataDir: string, kind: PushKind, schema: z.ZodType<T>): T | null {
  const file = pushStateFile(dataDir, kind);
  if (!existsSync(file)) return null;
  try {
    const r = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** The durable record of one kind of push. */
export const pushRecord = <T extends BasePushState>(kind: PushKind, schema: z.ZodType<T>) => ({
  read: (dataDir: string) => readRecord(dataDir, kind, schema),
  write: (dataDir: string, s: T) => writeFileDurably(pushStateFile(dataDir, kind), JSON.stringify(s)),
  clear: (dataDir: string) => rmSync(pushStateFile(dataDir, kind), { force: true }),
});

const configRecord = pushRecord('config', stateSchema);
export const readPushState = configRecord.read;
export const writePushState = configRecord.write;
export const clearPushState = configRecord.clear;

/** The push `status` shows: a config push's record, else a flows push's (one of them at most is on probation). */
export function anyPushStatus(dataDir: string, now = Date.now()) {
  const config = readPushState(dataDir);
  return config ? pushStatus(config, now) : pushStatus(readRecord(dataDir, 'flows', basePushState), now, 'flows');
}

/** The kind of push still on probation, if any: a second push (of either kind) waits for its verdict. */
export function pushOnProbation(dataDir: string): PushKind | null {
  return KINDS.find((k) => readRecord(dataDir, k, basePushState)?.phase === 'probation') ?? null;
}

/** What `status` shows of a push (null when none is pending). */
export function pushStatus(s: BasePushState | null, now = Date.now(), kind: PushKind = 'config') {
  if (!s) return null;
  const left = Math.max(0, Math.ceil((s.since + s.probationSec * 1000 - now) / 1000));
  return {
    kind,
    phase: s.phase,
    hash: s.hash,
    previousHash: s.previousHash,
    by: s.by,
    since: new Date(s.since).toISOString(),
    probationLeftSec: left,
  };
}
