/**
 * `villages apply-config`: a config pushed to a group in waves (villages-waves.ts). Per gateway:
 * config.get (its running config and hash), the new config made from it (a merge patch, or a
 * whole file), config.apply with that hash expected, then the gateway's own verdict:
 * `config.applied` or `config.rolled_back` for the hash the apply answered with.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CountyLink } from './villages-link.js';
import { formatWaves, inWaves, refusal, sendForVerdict, type Outcome, type WaveResult } from './villages-waves.js';

export interface GatewayResult extends WaveResult {
  previousHash: string | null;
  hash: string | null;
}

export interface ConfigWaveOptions {
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

async function pushOne(
  link: CountyLink,
  o: ConfigWaveOptions,
  gatewayId: string,
  wave: number,
): Promise<GatewayResult> {
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
  const args = {
    config: next,
    expectedHash: previousHash,
    by: o.by,
    ...(o.probationSec ? { probationSec: o.probationSec } : {}),
  };
  let hash: string | null = null;
  const sent = await sendForVerdict(link, gatewayId, 'config.apply', args, o.replyTimeoutMs, (result) => {
    const h = (result as { configHash?: unknown } | undefined)?.configHash;
    if (typeof h !== 'string') return 'config.apply answered without configHash';
    hash = h;
    return {
      isVerdict: (e) => (e.type === 'config.applied' || e.type === 'config.rolled_back') && e.data.hash === h,
      timeoutMs: o.verdictTimeoutMs,
    };
  });
  if (sent.kind === 'no_reply')
    return res('timeout', `no reply to config.apply in ${o.replyTimeoutMs} ms (it expired unrun)`, { previousHash });
  if (sent.kind === 'refused') return res('refused', `config.apply ${refusal(sent.reply)}`, { previousHash });
  if (sent.kind === 'unreadable') return res('refused', sent.problem, { previousHash });
  const { verdict, ms } = sent;
  if (!verdict)
    return res('timeout', `no config.applied or config.rolled_back in ${o.verdictTimeoutMs} ms`, {
      previousHash,
      hash,
    });
  if (verdict.type === 'config.applied') return res('applied', null, { previousHash, hash, ms });
  return res('rolled_back', String(verdict.data.reason ?? 'no reason given'), { previousHash, hash, ms });
}

/** Pushes wave by wave; every gateway gets a result, those after a stop `not_reached`. */
export function applyConfigInWaves(link: CountyLink, o: ConfigWaveOptions): Promise<GatewayResult[]> {
  return inWaves(o.gateways, (id, wave) => pushOne(link, o, id, wave), { previousHash: null, hash: null }, o.onResult);
}

export const formatConfigResults = (results: GatewayResult[]) =>
  formatWaves(results, (r) =>
    // A gateway refused (or not answered) before it took the push still runs what it ran.
    !r.previousHash ? '' : r.hash ? ` ${r.previousHash} -> ${r.hash}` : ` (still ${r.previousHash})`,
  );
