/** The gateway about itself: start, health, storage, shedding, config changes. */
import { z } from 'zod';
import { prioritySchema } from '../envelope.js';
import { spec } from './define.js';

const count = z.int().min(0);
const backlog = z.strictObject({ count, bytes: count });
const perPriority = <S extends z.ZodType>(s: S) => z.record(prioritySchema, s);

/** What `health` reports under `storage` (agent/storage-failures.ts). */
export const storageHealth = z.strictObject({
  failures: z.strictObject({ commit: count, delete: count, sweep: count }),
  eventsNotStored: count,
  lastError: z.string().nullable(),
});

const salvage = z.strictObject({
  recovered: count,
  stranded: count,
  unreadableTables: z.array(z.string()),
  unreadableTails: z.array(z.string()),
  catalogReadable: z.boolean(),
  fromPages: count,
  paddedBytes: count,
});

/** A release update's two versions (agent/update-result.ts), and why it did not stay. */
const release = {
  from: z.string().describe('The release that ran before'),
  to: z.string().describe("The update's release ('?' when its manifest could not be read)"),
};
const why = {
  reason: z.string(),
  code: z.string().describe('BAD_SIGNATURE, FILE_MISMATCH, BAD_PATH, ... or PROBATION_FAILED'),
  at: z.string(),
};

export const gatewayEvents = {
  'gateway.started': spec(
    'high',
    z.strictObject({
      version: z.string(),
      configHash: z.string(),
      backlog: backlog.describe('Events waiting in the outbox at start'),
      firstSeq: z.int().min(1).describe("This boot's first seq: the county checks each boot's seqs from here on"),
      previousLastSeq: z
        .int()
        .min(1)
        .nullable()
        .describe(
          'The highest seq stored before this boot (null: nothing ever was): the seqs after it and before firstSeq were reserved (a block per boot) but never used, so none of them is lost',
        ),
      shed: perPriority(count),
    }),
    'the agent started (also after a reload)',
  ),
  'gateway.health': spec(
    'low',
    z.strictObject({
      backlog: perPriority(backlog),
      backlogTotal: backlog,
      // On the outbox's own clock; not held to >= 0 here: health must never be refused over a clock.
      oldestAgeSec: z.int().nullable(),
      oldestAgeMs: z.int().nullable().optional().describe('oldestAgeSec in milliseconds, the unit `status` uses'),
      shed: perPriority(count),
      uplink: z.strictObject({
        state: z.string(),
        reconnects: count,
        attempts: count,
        lastError: z.string().nullable(),
        downForSec: count.nullable(),
        downForMs: count.nullable().optional().describe('downForSec in milliseconds, the unit `status` uses'),
        lastPubackAgeSec: count.nullable(),
        lastPubackAgeMs: count.nullable().optional().describe('lastPubackAgeSec in milliseconds'),
        inflight: count,
        inflightBytes: count.optional().describe('Bytes published and not yet acknowledged'),
        linkRateBytesPerSec: count
          .nullable()
          .optional()
          .describe('What the link was measured to deliver (best of the last 10 s of PUBACKs); null before any'),
        linkMinRttMs: count.nullable().optional().describe('Shortest PUBACK round trip of the last 30 s'),
      }),
      devices: z.strictObject({
        total: count.describe('Drivers configured (a driver may serve several device ids)'),
        online: count.describe('Drivers online'),
        offline: z
          .array(z.strictObject({ id: z.string(), reason: z.string().nullable() }))
          .max(20)
          .optional()
          .describe("Device ids down, with the driver's reason in a technician's words (null: none given); at most 20"),
        offlineMore: count.optional().describe('Devices down beyond the 20 listed'),
      }),
      rssBytes: count,
      diskFreeBytes: z.number().min(0).nullable(),
      storage: storageHealth,
      payloadProblems: count.describe(
        'Events since start whose payload did not match the catalogue (refused; an alarm-class one kept and sent with payloadInvalid) or could not be read by the county (refused)',
      ),
      uptimeSec: count,
      uptimeMs: count.optional().describe('uptimeSec in milliseconds'),
      nodeRed: z
        .strictObject({
          state: z.string(),
          restarts: count,
          dropped: count.describe('Events dropped from the queue to the child (oldest first)'),
          safeMode: z.boolean(),
          rssBytes: count.nullable(),
        })
        .optional()
        .describe('The Node-RED child, when configured'),
    }),
    'every `health.intervalSec` (published on `<prefix>/health`, or in the compact batches with `mqtt.wire.health: batch`)',
  ),
  'gateway.storage_recovered': spec(
    'critical',
    z.strictObject({
      reason: z.string(),
      movedTo: z.string(),
      salvage: salvage.optional(),
      salvageError: z.string().optional(),
    }),
    'the outbox was corrupt: moved aside, a fresh one started with what could be salvaged',
  ),
  'gateway.state_recovered': spec(
    'high',
    z.strictObject({ file: z.string(), problem: z.string(), keptAs: z.string().nullable() }),
    'a state file (`seq.json`, `alarms.json`) was unreadable: kept aside, started without it',
  ),
  'gateway.storage_failed': spec(
    'critical',
    z.strictObject({ reason: z.string(), dataDir: z.string() }),
    'the data folder is lost (read-only, vanished, replaced): sirens and SMS too',
  ),
  'gateway.storage_restored': spec('high', z.strictObject({ was: z.string() }), 'the data folder is usable again'),
  'gateway.disk_full': spec(
    'critical',
    z.strictObject({ freeBytes: z.number().min(0), reserveBytes: count, atStart: z.literal(true).optional() }),
    'the disk reserve went to alarms; only alarm-class events commit until it is written again',
  ),
  'gateway.events_lost': spec(
    'critical',
    z.strictObject({
      count: z.int().min(1).describe('Alarm-class events not stored since the last report'),
      seqs: z
        .array(z.tuple([z.int().min(1), z.int().min(1)]))
        .describe('Their seqs as inclusive ranges [first, last]: the county counts them as lost'),
      types: z.record(z.string(), count).describe('How many of each type'),
      reason: z.string().describe('The storage error'),
    }),
    'alarm-class events could not be stored (the disk full past its reserve): sent from memory if need be; their SMS goes out',
  ),
  'gateway.events_shed': spec(
    'high',
    z.strictObject({
      counts: z.record(z.string(), count).describe('Shed since the last report, by `<priority>/<reason>`'),
      totals: perPriority(count),
    }),
    'the outbox shed events (at most every 10 s while it goes on)',
  ),
  'gateway.config_fallback': spec(
    'high',
    z.union([
      z.strictObject({ problems: z.array(z.string()), using: z.string() }),
      z.strictObject({ error: z.string(), configHash: z.string(), using: z.string() }),
    ]),
    'the config file was invalid (or could not start): running the last good one',
  ),
  'gateway.config_rejected': spec(
    'high',
    z.union([
      z.strictObject({ by: z.string(), code: z.string(), problems: z.array(z.string()) }),
      z.strictObject({ by: z.literal('start'), configHash: z.string(), error: z.string(), running: z.string() }),
    ]),
    'a reload was refused (SIGHUP), or its config could not start and the previous one is back',
  ),
  'gateway.restart_requested': spec(
    'high',
    z.strictObject({
      by: z.string().nullable().describe('Who asked, as the command named them (null: not said)'),
      command: z.string().nullable().describe("The command's id"),
      keyId: z.string().nullable().describe('The county key that signed it (null: commands are not signed)'),
    }),
    'the county asked the agent to restart (`restart`): it stops cleanly and starts again with the same config',
  ),
  'gateway.config_applied': spec(
    'high',
    z.strictObject({ configHash: z.string(), previous: z.string() }),
    'a reloaded config runs',
  ),
  'config.applied': spec(
    'critical',
    z.strictObject({
      hash: z.string(),
      previousHash: z.string(),
      by: z.string(),
      keyId: z.string().nullable().describe('The county key that signed the push (null: not signed)'),
      probationSec: z.number(),
    }),
    'a pushed config (config.apply) passed its probation window and stays',
  ),
  'config.rolled_back': spec(
    'critical',
    z.strictObject({
      hash: z.string(),
      previousHash: z.string(),
      reason: z.string(),
      by: z.string(),
      keyId: z.string().nullable().describe('The county key that signed the push (null: not signed)'),
    }),
    'a pushed config failed its probation (link, restarts, devices) and the previous one runs again',
  ),
  'update.applied': spec(
    'critical',
    z.strictObject({ ...release, probationSec: z.number(), at: z.string() }),
    'a signed release update was installed, and the new release came up with its county link within the probation window',
  ),
  'update.rolled_back': spec(
    'critical',
    z.strictObject({ ...release, ...why }),
    'a signed release update was installed but failed its probation: the previous release runs again',
  ),
  'update.refused': spec(
    'critical',
    z.strictObject({ ...release, ...why }),
    'a staged release update was refused (signature, a file, the path, the CPU) and nothing was switched',
  ),
};
