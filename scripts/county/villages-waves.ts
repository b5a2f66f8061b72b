/**
 * Changes that go to a group in waves (`villages apply-config`, `villages apply-update`): one
 * canary, then a tenth (at least one), then the rest. Each gateway is sent one command whose
 * outcome comes later as the gateway's own verdict event (after a probation, often after a
 * restart). A wave ends when all its gateways have an outcome; the first that is not a success
 * (a rollback, a refusal, a timeout) stops the run there, so a bad change reaches one village,
 * or a tenth at worst. What is sent and what counts as its verdict is the caller's
 * (villages-config.ts, villages-update.ts).
 */
import type { CommandReply, CountyLink, LinkEvent } from './villages-link.js';

/** One canary, then 10 % of the rest (at least one), then all the others. */
export function planWaves(ids: readonly string[]): string[][] {
  if (ids.length === 0) return [];
  const [canary, ...rest] = ids;
  const tenth = Math.max(1, Math.ceil(ids.length / 10));
  return [[canary!], rest.slice(0, tenth), rest.slice(tenth)].filter((w) => w.length > 0);
}

export type Outcome =
  /** The gateway's verdict: the change passed its probation. */
  | 'applied'
  /** Nothing to do: the gateway runs that config or release already. */
  | 'unchanged'
  /** The gateway's verdict: the change failed its probation and it runs what it ran before. */
  | 'rolled_back'
  /** The command was refused (the reply's code says why), or the gateway refused the change later. */
  | 'refused'
  /** No reply, or no verdict, in time: what it runs is unknown until it is listed again. */
  | 'timeout'
  /** Not tried: an earlier wave stopped the run. */
  | 'not_reached';

/** What every gateway's result has; each kind of change adds its own fields. */
export interface WaveResult {
  gatewayId: string;
  wave: number;
  outcome: Outcome;
  /** The refusal's code, the rollback's reason, what timed out. */
  detail: string | null;
  /** From the command to the verdict at the county, ms. */
  ms: number | null;
}

const succeeded = (r: WaveResult) => r.outcome === 'applied' || r.outcome === 'unchanged';

/** Runs `step` wave by wave; every gateway gets a result, those after a stop `not_reached` with `blank`'s fields. */
export async function inWaves<R extends WaveResult>(
  gateways: readonly string[],
  step: (gatewayId: string, wave: number) => Promise<R>,
  blank: Omit<R, keyof WaveResult>,
  onResult?: (r: R) => void,
): Promise<R[]> {
  const notReached = (gatewayId: string, wave: number) =>
    ({ ...blank, gatewayId, wave, outcome: 'not_reached', detail: null, ms: null }) as R;
  const results: R[] = [];
  let stopped = false;
  for (const [i, wave] of planWaves(gateways).entries()) {
    if (stopped) {
      results.push(...wave.map((id) => notReached(id, i + 1)));
      continue;
    }
    const done = await Promise.all(
      wave.map(async (id) => {
        const r = await step(id, i + 1);
        onResult?.(r);
        return r;
      }),
    );
    results.push(...done);
    stopped = !done.every(succeeded);
  }
  return results;
}

export const wavesOk = (results: WaveResult[]) => results.every(succeeded);

/** One line per gateway (`change` says what it ran before and after), then why the run stopped, if it did. */
export function formatWaves<R extends WaveResult>(results: R[], change: (r: R) => string): string {
  const lines = results.map((r) => {
    const took = r.ms === null ? '' : ` in ${(r.ms / 1000).toFixed(1)} s`;
    return `wave ${r.wave}  ${r.gatewayId}  ${r.outcome}${change(r)}${took}${r.detail ? `: ${r.detail}` : ''}`;
  });
  const stop = results.find((r) => !succeeded(r) && r.outcome !== 'not_reached');
  lines.push(
    stop ? `stopped at ${stop.gatewayId} (${stop.outcome}); later gateways untouched` : 'every gateway applied',
  );
  return lines.join('\n');
}

export const refusal = (r: CommandReply) => `${r.error?.code ?? 'REFUSED'}: ${r.error?.message ?? ''}`;

/** How a command whose outcome comes later went: no reply, refused, or accepted with its verdict (null: none in time). */
export type Sent =
  | { kind: 'no_reply' }
  | { kind: 'refused'; reply: CommandReply }
  | { kind: 'unreadable'; problem: string }
  | { kind: 'accepted'; verdict: LinkEvent | null; ms: number; waitedMs: number };

/**
 * Sends `name` and, once it is accepted, waits for the gateway's verdict event. `judge` reads
 * the accepted reply and says which event is the verdict and how long to wait for it, or why
 * the reply will not do. The gateway's events are watched before the command goes out and kept
 * from then on: a verdict that comes quickly (or after a restart) must not slip past.
 */
export async function sendForVerdict(
  link: CountyLink,
  gatewayId: string,
  name: string,
  args: unknown,
  replyTimeoutMs: number,
  judge: (result: unknown) => { isVerdict: (e: LinkEvent) => boolean; timeoutMs: number } | string,
): Promise<Sent> {
  await link.watchEvents(gatewayId);
  const seen: LinkEvent[] = [];
  const keep = (e: LinkEvent) => e.gatewayId === gatewayId && seen.push(e);
  link.on('event', keep);
  const started = Date.now();
  try {
    const reply = await link.command(gatewayId, name, args, replyTimeoutMs);
    if (!reply) return { kind: 'no_reply' };
    if (!reply.ok) return { kind: 'refused', reply };
    const j = judge(reply.result);
    if (typeof j === 'string') return { kind: 'unreadable', problem: j };
    const verdict = seen.find(j.isVerdict) ?? (await link.nextEvent(gatewayId, j.isVerdict, j.timeoutMs));
    return { kind: 'accepted', verdict, ms: Date.now() - started, waitedMs: j.timeoutMs };
  } finally {
    link.off('event', keep);
  }
}
