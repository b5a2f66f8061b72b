/**
 * Stale commands are refused. The broker keeps a command for an offline gateway as long as its
 * session lives (days), so a siren test or `output on` sent before a long cut would otherwise
 * fire when the link came back. A command says how long it is good for in one of three ways:
 * - MQTT 5 message expiry: the broker drops it once expired, and forwards the time it has left;
 * - `expiresAt` in the payload (epoch ms), for MQTT 3.1.1;
 * - `sentAt` in the payload (epoch ms): an actuation command is then good for ACTUATION_MAX_AGE_MS.
 * An actuation command (it moves something in the village: an output, the sirens) that says none
 * of these is refused (NO_EXPIRY): there is no way to tell a fresh one from one a week old.
 *
 * Whose clock. Once the gateway's clock is synced (clock.synced: timesyncd says so), it judges.
 * Before that (a Pi has no battery clock: after a power cut it starts in 1970, or at the time it
 * last shut down, until NTP answers, which on a weak link can be long), "now" is the later of the
 * gateway's clock and the last time the county stated (`sentAt` of a command that passed every
 * check) moved on by the monotonic time since. A county time is held in memory only and never
 * used once the clock is synced: a far-future `sentAt` from whoever may publish commands can make
 * later commands look stale only until then (or a restart). The broker's ACL is the guard until
 * commands are signed (docs/county.md, "Commands").
 */
import { z } from 'zod';
import type { Clock } from '../../core/kernel/clock.js';

/** How long an actuation command that names only its `sentAt` stays good. */
export const ACTUATION_MAX_AGE_MS = 60_000;

/** Epoch ms from year 2000 to 2200: a bound that keeps garbage out of the clock. */
const epochMs = z.int().min(946_684_800_000).max(7_258_118_400_000);

export const expiryFields = {
  expiresAt: epochMs.optional(),
  sentAt: epochMs.optional(),
};

export interface ExpiryClaim {
  expiresAt?: number | undefined;
  sentAt?: number | undefined;
  /** MQTT 5: the seconds the broker says the message has left. */
  mqttExpirySec?: number | undefined;
}

export interface Staleness {
  code: 'EXPIRED' | 'NO_EXPIRY';
  message: string;
  /** The moment the command stopped being good (epoch ms), when it named one. */
  expiredAt: number | null;
  /** The time it was judged at, and by which clock. */
  judgedAt: number;
  clock: 'gateway' | 'county';
}

export class CommandClock {
  private county: { at: number; monoMs: number } | null = null;

  constructor(private readonly clock: Pick<Clock, 'now' | 'monoMs' | 'synced'>) {}

  /** The gateway's clock once synced; before, the later of it and the county's last stated time, moved on. */
  now(): { ms: number; clock: 'gateway' | 'county' } {
    const own = this.clock.now();
    if (this.county === null || this.clock.synced()) return { ms: own, clock: 'gateway' };
    const county = this.county.at + (this.clock.monoMs() - this.county.monoMs);
    return county > own ? { ms: Math.round(county), clock: 'county' } : { ms: own, clock: 'gateway' };
  }

  /** A time the county stated on a command that passed every check (kept only while the clock is not synced). */
  told(sentAt: number): void {
    if (this.clock.synced()) this.county = null;
    else if (sentAt > this.now().ms) this.county = { at: sentAt, monoMs: this.clock.monoMs() };
  }

  /** Why the command must not run, or null when it is fresh. */
  judge(claim: ExpiryClaim, actuation: boolean): Staleness | null {
    const { ms, clock } = this.now();
    const stale = (expiredAt: number, how: string): Staleness => ({
      code: 'EXPIRED',
      message: `command expired ${formatAge(ms - expiredAt)} ago (${how}; judged by the ${clock}'s clock)`,
      expiredAt,
      judgedAt: ms,
      clock,
    });
    if (claim.expiresAt !== undefined && claim.expiresAt <= ms) return stale(claim.expiresAt, 'its expiresAt');
    if (claim.mqttExpirySec === 0) return stale(ms, 'its MQTT message expiry ran out');
    const bounded = claim.expiresAt !== undefined || claim.mqttExpirySec !== undefined;
    if (actuation && !bounded) {
      if (claim.sentAt === undefined)
        return {
          code: 'NO_EXPIRY',
          message:
            'an actuation command must say how long it is good for: MQTT 5 message expiry, or expiresAt or sentAt (epoch ms) in the payload',
          expiredAt: null,
          judgedAt: ms,
          clock,
        };
      const until = claim.sentAt + ACTUATION_MAX_AGE_MS;
      if (until <= ms) return stale(until, `sent at ${new Date(claim.sentAt).toISOString()}, good for 60 s`);
    }
    return null;
  }
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
