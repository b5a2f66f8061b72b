/**
 * `villages list`: one row per gateway from what gateways already publish (the retained status:
 * version, config hash, online or not and since when) and a `status` command with a short
 * timeout (backlog, link, devices down and why, a push on probation). A gateway that does not
 * answer stays in the list, marked as such, with the last values known of it and their age:
 * from the retained status, and from its last answer when a state file keeps them between runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import { writeFileDurably } from '../../agent/durable-file.js';
import type { CountyLink } from './villages-link.js';

/** What a `status` reply carries that a row shows (the rest of it is ignored). */
const statusReplySchema = z.looseObject({
  version: z.string(),
  configHash: z.string(),
  outbox: z.looseObject({
    total: z.looseObject({ count: z.number() }),
    oldestAgeMs: z.number().nullable(),
  }),
  uplink: z.looseObject({
    reconnects: z.number(),
    link: z.looseObject({ rateBytesPerSec: z.number().nullable(), minRttMs: z.number().nullable() }),
  }),
  devices: z.array(
    z.looseObject({ deviceIds: z.array(z.string()), online: z.boolean(), downReason: z.string().nullish() }),
  ),
  push: z.looseObject({ phase: z.string(), hash: z.string(), probationLeftSec: z.number() }).nullish(),
});

/** The values a row shows, as of `at` (epoch ms). */
const valuesSchema = z.object({
  at: z.number(),
  version: z.string(),
  configHash: z.string(),
  backlog: z.number(),
  oldestAgeMs: z.number().nullable(),
  link: z.object({ rateBytesPerSec: z.number().nullable(), minRttMs: z.number().nullable(), reconnects: z.number() }),
  devicesDown: z.array(z.object({ id: z.string(), reason: z.string().nullable() })),
  push: z.string().nullable(),
});
export type RowValues = z.infer<typeof valuesSchema>;

export interface Row {
  gatewayId: string;
  /** Whether it answered `status` in this run. */
  answering: boolean;
  /** The retained status: online or offline (and why), or unknown when the broker holds none. */
  status: string;
  /** An answer that was a refusal, or a reply this tool could not read (null when all is well). */
  problem: string | null;
  /** The status message's own time (birth: when it connected; a will carries its connect's time too). */
  statusTs: string | null;
  /** This run's answer, else the retained status (the birth carries both), else an earlier answer. */
  version: string | null;
  configHash: string | null;
  /** Its last answer's values (this run's, or an earlier run's from the state file), null if never. */
  values: RowValues | null;
  /** Age of the last contact (an answer, else the status message), ms; null when nothing is known. */
  lastContactAgeMs: number | null;
}

const stateSchema = z.object({ v: z.literal(1), gateways: z.record(z.string(), valuesSchema) });

/** Last answers kept between runs; an unreadable file is refused, never overwritten (it may be all we know). */
export function readState(file: string | undefined): Record<string, RowValues> {
  if (!file || !existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GatewayError('STATE_UNREADABLE', `${file}: not JSON (${(err as Error).message}); move it aside`);
  }
  const r = stateSchema.safeParse(parsed);
  if (!r.success) throw new GatewayError('STATE_UNREADABLE', `${file}: ${z.prettifyError(r.error)}; move it aside`);
  return r.data.gateways;
}

export const writeState = (file: string, gateways: Record<string, RowValues>) =>
  writeFileDurably(file, `${JSON.stringify({ v: 1, gateways }, null, 1)}\n`);

function valuesOf(result: unknown, at: number): RowValues | string {
  const r = statusReplySchema.safeParse(result);
  if (!r.success) return `status reply not understood: ${z.prettifyError(r.error).slice(0, 200)}`;
  const s = r.data;
  return {
    at,
    version: s.version,
    configHash: s.configHash,
    backlog: s.outbox.total.count,
    oldestAgeMs: s.outbox.oldestAgeMs,
    link: {
      rateBytesPerSec: s.uplink.link.rateBytesPerSec,
      minRttMs: s.uplink.link.minRttMs,
      reconnects: s.uplink.reconnects,
    },
    devicesDown: s.devices
      .filter((d) => !d.online)
      .flatMap((d) => d.deviceIds.map((id) => ({ id, reason: d.downReason ?? null }))),
    push: s.push ? `${s.push.phase} ${s.push.hash} (${s.push.probationLeftSec} s left)` : null,
  };
}

export interface ListOptions {
  /** Gateway ids to show; undefined: every gateway with a retained status. */
  gateways?: string[];
  timeoutMs: number;
  settleMs: number;
  known: Record<string, RowValues>;
  now?: () => number;
}

export async function listGateways(link: CountyLink, o: ListOptions): Promise<Row[]> {
  const now = o.now ?? Date.now;
  await link.readStatuses(o.settleMs);
  const ids = o.gateways ?? [...new Set([...link.statuses.keys(), ...Object.keys(o.known)])].sort();
  return Promise.all(
    ids.map(async (gatewayId): Promise<Row> => {
      const reply = await link.command(gatewayId, 'status', {}, o.timeoutMs);
      const fresh = reply?.ok ? valuesOf(reply.result, now()) : null;
      const values = typeof fresh === 'object' && fresh ? fresh : (o.known[gatewayId] ?? null);
      const st = link.statuses.get(gatewayId)?.status;
      const status = !st ? 'unknown (no retained status)' : `${st.state}${st.reason ? ` (${st.reason})` : ''}`;
      const refused = reply && !reply.ok ? `status refused: ${reply.error?.code ?? '?'}` : null;
      const contact = Math.max(values?.at ?? 0, st ? Date.parse(st.ts) || 0 : 0);
      return {
        gatewayId,
        answering: reply !== null,
        status,
        problem: refused ?? (typeof fresh === 'string' ? fresh : null),
        statusTs: st?.ts ?? null,
        version: (fresh === values ? values?.version : st?.version) ?? values?.version ?? null,
        configHash: (fresh === values ? values?.configHash : st?.configHash) ?? values?.configHash ?? null,
        values,
        lastContactAgeMs: contact > 0 ? Math.max(0, now() - contact) : null,
      };
    }),
  );
}

const age = (ms: number | null) =>
  ms === null
    ? '-'
    : ms < 120_000
      ? `${Math.round(ms / 1000)} s`
      : ms < 7_200_000
        ? `${Math.round(ms / 60_000)} min`
        : `${Math.round(ms / 3_600_000)} h`;

/** The rows as a table for a terminal; values not from this run say how old they are. */
export function formatRows(rows: Row[], now = Date.now()): string {
  const head = ['gateway', 'answers', 'version', 'config', 'contact', 'backlog', 'link', 'down', 'push'];
  const body = rows.map((r) => {
    const v = r.values;
    const stale = v && !r.answering ? ` (known ${age(now - v.at)} ago)` : '';
    const link = v ? `${v.link.rateBytesPerSec ?? '?'} B/s rtt ${v.link.minRttMs ?? '?'} ms` : '-';
    const down = v ? v.devicesDown.map((d) => `${d.id}: ${d.reason ?? 'no reason given'}`).join('; ') || 'none' : '-';
    return [
      r.gatewayId,
      r.answering ? `yes${r.problem ? ` (${r.problem})` : ''}` : `NO, ${r.status}`,
      r.version ?? '-',
      r.configHash ?? '-',
      `${age(r.lastContactAgeMs)} ago`,
      v ? `${v.backlog}${v.backlog > 0 ? `, oldest ${age(v.oldestAgeMs)}` : ''}${stale}` : '-',
      link,
      down,
      v?.push ?? 'none',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body]
    .map((cols) =>
      cols
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
