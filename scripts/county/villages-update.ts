/**
 * `villages apply-update`: a release update sent to a group in waves (villages-waves.ts). Per
 * gateway: the `update {url, version, by}` command, then the gateway's own verdict for that
 * version: `update.applied` (the new release came up with its county link within the apply
 * step's probation), `update.rolled_back` (it did not: the old release runs again) or
 * `update.refused` (a file did not match while the agent fetched, or the root step refused
 * the bundle, naming no version when the signature did not hold: nothing was switched). A gateway that runs `version` already answers
 * SAME_VERSION: it counts as `unchanged`, so a run stopped halfway can be started again as it was.
 */
import type { CountyLink, LinkEvent } from './villages-link.js';
import { formatWaves, inWaves, refusal, sendForVerdict, type Outcome, type WaveResult } from './villages-waves.js';

export interface UpdateResult extends WaveResult {
  /** The release it ran before (from its verdict), when known. */
  from: string | null;
  to: string;
  /** What it had to fetch (the files its release lacks), from its reply. */
  files: number | null;
  bytes: number | null;
}

/** The apply step's probation when the tool is not told (apply-update.ts's default, as the unit runs it). */
export const APPLY_PROBATION_SEC = 180;
/** For the fetch: 4 kB/s, a little below gprs's nominal 40 kbit/s (docs/county.md, Releases). */
export const SLOWEST_LINK_BYTES_PER_SEC = 4000;
/** The apply step's own work (assembling ~10,000 files on an SD card, install.sh) and the agent's restarts. */
export const APPLY_MARGIN_SEC = 300;

/** How long a gateway that accepted `bytes` to fetch may take to its verdict, by default. */
export const defaultVerdictMs = (bytes: number, probationSec = APPLY_PROBATION_SEC) =>
  (probationSec + APPLY_MARGIN_SEC + Math.ceil(bytes / SLOWEST_LINK_BYTES_PER_SEC)) * 1000;

export interface UpdateWaveOptions {
  gateways: string[];
  /** The bundle's base URL, as the gateways reach it; absent with `mqtt`: pulled from the county's update server. */
  url?: string;
  mqtt?: true;
  version: string;
  by: string;
  /** For the command's reply (the gateway fetches the manifest and signature first). */
  replyTimeoutMs: number;
  /** For the verdict once accepted; default `defaultVerdictMs` of the bytes it said it will fetch. */
  verdictTimeoutMs?: number;
  /** The gateways' apply-step probation, for the default verdict timeout. */
  probationSec?: number;
  onResult?(r: UpdateResult): void;
}

/** apply-update.ts's `to` when it refused before the manifest's signature held. */
const UNKNOWN_TO = '?';

const VERDICTS = new Map<string, Outcome>([
  ['update.applied', 'applied'],
  ['update.rolled_back', 'rolled_back'],
  ['update.refused', 'refused'],
]);

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

async function updateOne(
  link: CountyLink,
  o: UpdateWaveOptions,
  gatewayId: string,
  wave: number,
): Promise<UpdateResult> {
  const base = { gatewayId, wave, from: null, to: o.version, files: null, bytes: null, ms: null };
  const res = (outcome: Outcome, detail: string | null, extra: Partial<UpdateResult> = {}): UpdateResult => ({
    ...base,
    outcome,
    detail,
    ...extra,
  });
  // The root step refuses a bundle whose signature fails before it trusts the manifest's version:
  // its update.refused then says `to: "?"`. Sent after this gateway took our update, it is ours.
  const isVerdict = (e: LinkEvent) =>
    VERDICTS.has(e.type) && (e.data.to === o.version || (e.type === 'update.refused' && e.data.to === UNKNOWN_TO));
  let fetched: Partial<UpdateResult> = {};
  const sent = await sendForVerdict(
    link,
    gatewayId,
    'update',
    { ...(o.mqtt ? { mqtt: true } : { url: o.url }), version: o.version, by: o.by },
    o.replyTimeoutMs,
    (result) => {
      const r = result as { files?: unknown; bytes?: unknown } | undefined;
      const bytes = count(r?.bytes);
      if (bytes === null) return 'update answered without bytes';
      fetched = { files: count(r?.files), bytes };
      return { isVerdict, timeoutMs: o.verdictTimeoutMs ?? defaultVerdictMs(bytes, o.probationSec) };
    },
  );
  if (sent.kind === 'no_reply')
    return res('timeout', `no reply to update in ${o.replyTimeoutMs} ms (it expired unrun)`);
  if (sent.kind === 'refused')
    return sent.reply.error?.code === 'SAME_VERSION'
      ? res('unchanged', null, { from: o.version })
      : res('refused', `update ${refusal(sent.reply)}`);
  if (sent.kind === 'unreadable') return res('refused', sent.problem);
  const { verdict, ms, waitedMs } = sent;
  if (!verdict)
    return res('timeout', `no update.applied, update.rolled_back or update.refused in ${waitedMs} ms`, fetched);
  const outcome = VERDICTS.get(verdict.type)!;
  const why = outcome === 'applied' ? null : `${str(verdict.data.code) ?? '?'}: ${str(verdict.data.reason) ?? ''}`;
  return res(outcome, why, { ...fetched, from: str(verdict.data.from), ms });
}

/** Sends the update wave by wave; every gateway gets a result, those after a stop `not_reached`. */
export function applyUpdateInWaves(link: CountyLink, o: UpdateWaveOptions): Promise<UpdateResult[]> {
  return inWaves(
    o.gateways,
    (id, wave) => updateOne(link, o, id, wave),
    { from: null, to: o.version, files: null, bytes: null },
    o.onResult,
  );
}

export const formatUpdateResults = (results: UpdateResult[]) =>
  formatWaves(results, (r) => {
    if (r.outcome === 'unchanged') return ` (runs ${r.to})`;
    // Not accepted (refused at once, no reply, not reached): the gateway runs what it ran.
    if (r.bytes === null) return '';
    return ` ${r.from ?? '?'} -> ${r.to} (${r.files ?? '?'} files, ${r.bytes} bytes to fetch)`;
  });
