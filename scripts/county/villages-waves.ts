/**
 * `villages apply-config`: a config pushed to a group in waves, one canary, then a tenth (at
 * least one), then the rest. Per gateway: config.get (its running config and hash), the new
 * config made from it (a merge patch, or a whole file), config.apply with that hash expected,
 * then wait for the gateway's own verdict: `config.applied` or `config.rolled_back` for that
 * hash. A wave ends when all its gateways have a verdict; the first rollback, refusal or
 * timeout stops the run there, so a bad config reaches one village, or a tenth at worst.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CommandReply, CountyLink, LinkEvent } from './villages-link.js';

/** One canary, then 10 % of the rest (at least one), then all the others. */
export function planWaves(ids: readonly string[]): string[][] {
  if (ids.length === 0) return [];
  const [canary, ...rest] = ids;
  const tenth = Math.max(1, Math.ceil(ids.length / 10));
  return [[canary!], rest.slice(0, tenth), rest.slice(tenth)].filter((w) => w.length > 0);
}

export type Outcome =
  /** The gateway said config.applied: the new config passed its probation. */
  | 'applied'
  /** Nothing to do: the new config is the running one. */
  | 'unchanged'
  /** The gateway said config.rolled_back: it runs its previous config again. */
  | 'rolled_back'
  /** config.get or config.apply was refused (the reply's code says why); nothing changed. */
  | 'refused'
  /** No reply, or no verdict, in time: what it runs is unknown until it is listed again. */
  | 'timeout'
  /** Not tried: an earlier wave stopped the run. */
  | 'not_reached';

export interface GatewayResult {
  gatewayId: string;
  wave: number;
  outcome: Outcome;
  previousHash: string | null;
  hash: string | null;
  /** The refusal's code, the rollback's reason, what timed out. */
  detail: string | null;
  /** From config.apply to the verdict at the county, ms. */
  ms: number | null;
}

export interface WaveOptions {
  gateways: string[];
  /** The config to push, made from the gateway's running (redacted) config; throw to refuse. */
  make(running: Record<string, unknown>, gatewayId: string): Record<string, unknown>;
  by: string;
  probationSec?: number;
  /** For each config.get / config.apply reply. */
  replyTimeoutMs: number;
  /** For the verdict after the apply was accepted (the probation, a restart and the link). */
  verdictTimeoutMs: number;
  onResult?(r: GatewayResult): void;
}

const refusal = (r: CommandReply) => `${r.error?.code ?? 'REFUSED'}: ${r.error?.message ?? ''}`;

async function pushOne(link: CountyLink, o: WaveOptions, gatewayId: string, wave: number): Promise<GatewayResult> {
  const res = (outcome: Outcome, detail: string | null, extra: Partial<GatewayResult> = {}): GatewayResult => ({
    gatewayId,
    wave,
    outcome,
    previousHash: null,
    hash: null,
    detail,
    ms: null,
    ...extra,
  });
  const got = await link.command(gatewayId, 'config.get', {}, o.replyTimeoutMs);
  if (!got) return res('timeout', `no reply to config.get in ${o.replyTimeoutMs} ms`);
  if (!got.ok) return res('refused', `config.get ${refusal(got)}`);
  const cur = got.result as { configHash?: unknown; config?: unknown };
  if (typeof cur.configHash !== 'string' || typeof cur.config !== 'object' || cur.config === null)
    return res('refused', 'config.get answered without configHash or config');
  const previousHash = cur.configHash;
  let next: Record<string, unknown>;
  try {
    next = o.make(cur.config as Record<string, unknown>, gatewayId);
  } catch (err) {
    return res('refused', `not pushed: ${(err as Error).message}`, { previousHash });
  }
  if (isDeepStrictEqual(next, cur.config)) return res('unchanged', null, { previousHash, hash: previousHash });
  // Listening before the apply: the verdict comes after a restart and must not slip past.
  await link.watchEvents(gatewayId);
  let hash: string | null = null;
  const isVerdict = (e: LinkEvent) =>
    (e.type === 'config.applied' || e.type === 'config.rolled_back') && hash !== null && e.data.hash === hash;
  const early: LinkEvent[] = [];
  const keep = (e: LinkEvent) => e.gatewayId === gatewayId && isVerdict(e) && early.push(e);
  link.on('event', keep);
  const started = Date.now();
  try {
    const args = {
      config: next,
      expectedHash: previousHash,
      by: o.by,
      ...(o.probationSec ? { probationSec: o.probationSec } : {}),
    };
    const applied = await link.command(gatewayId, 'config.apply', args, o.replyTimeoutMs);
    if (!applied)
      return res('timeout', `no reply to config.apply in ${o.replyTimeoutMs} ms (it expired unrun)`, { previousHash });
    if (!applied.ok) return res('refused', `config.apply ${refusal(applied)}`, { previousHash });
    const accepted = applied.result as { configHash?: unknown };
    hash = typeof accepted.configHash === 'string' ? accepted.configHash : null;
    if (hash === null) return res('refused', 'config.apply answered without configHash', { previousHash });
    const verdict = early[0] ?? (await link.nextEvent(gatewayId, isVerdict, o.verdictTimeoutMs));
    const ms = Date.now() - started;
    if (!verdict)
      return res('timeout', `no config.applied or config.rolled_back in ${o.verdictTimeoutMs} ms`, {
        previousHash,
        hash,
      });
    if (verdict.type === 'config.applied') return res('applied', null, { previousHash, hash, ms });
    return res('rolled_back', String(verdict.data.reason ?? 'no reason given'), { previousHash, hash, ms });
  } finally {
    link.off('event', keep);
  }
}

/** Pushes wave by wave; every gateway gets a result, those after a stop `not_reached`. */
export async function applyInWaves(link: CountyLink, o: WaveOptions): Promise<GatewayResult[]> {
  const results: GatewayResult[] = [];
  let stopped = false;
  for (const [i, wave] of planWaves(o.gateways).entries()) {
    if (stopped) {
      for (const gatewayId of wave)
        results.push({
          gatewayId,
          wave: i + 1,
          outcome: 'not_reached',
          previousHash: null,
          hash: null,
          detail: null,
          ms: null,
        });
      continue;
    }
    const done = await Promise.all(
      wave.map(async (id) => {
        const r = await pushOne(link, o, id, i + 1);
        o.onResult?.(r);
        return r;
      }),
    );
    results.push(...done);
    stopped = done.some((r) => r.outcome !== 'applied' && r.outcome !== 'unchanged');
  }
  return results;
}

export const wavesOk = (results: GatewayResult[]) =>
  results.every((r) => r.outcome === 'applied' || r.outcome === 'unchanged');

export function formatResults(results: GatewayResult[]): string {
  const lines = results.map((r) => {
    // A gateway refused (or not answered) before it took the push still runs what it ran.
    const hashes = !r.previousHash ? '' : r.hash ? ` ${r.previousHash} -> ${r.hash}` : ` (still ${r.previousHash})`;
    const took = r.ms === null ? '' : ` in ${(r.ms / 1000).toFixed(1)} s`;
    return `wave ${r.wave}  ${r.gatewayId}  ${r.outcome}${hashes}${took}${r.detail ? `: ${r.detail}` : ''}`;
  });
  const stop = results.find((r) => r.outcome !== 'applied' && r.outcome !== 'unchanged' && r.outcome !== 'not_reached');
  lines.push(
    stop ? `stopped at ${stop.gatewayId} (${stop.outcome}); later gateways untouched` : 'every gateway applied',
  );
  return lines.join('\n');
}
