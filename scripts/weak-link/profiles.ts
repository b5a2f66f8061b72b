/**
 * Link profiles for the weak-link lab: what a cellular uplink from a mountain village looks like,
 * as data. A profile is a shape (one-way delay, jitter, rate per direction, the modem's buffer)
 * plus an optional schedule of outages. Only the schedule is compressed by `timeScale` (for CI);
 * delay, jitter and rate are physics and stay as they are.
 */
import { SEGMENT_BYTES } from './wire.js';

/**
 * What the link does with connections right now.
 * - `pass`: forwards, shaped by the profile.
 * - `blackhole`: forwards nothing and closes nothing (a dead cell TCP has not noticed yet): bytes
 *   wait in the modem buffer, then the senders are paused; new connections are accepted but not
 *   carried on to the target until the link passes again. What waited is delivered then, in order,
 *   as TCP's retransmissions would.
 * - `cut`: every connection is closed, new ones are closed at once (no network at all).
 * - `reset`: every connection gets a TCP RST, new ones too (the modem came back with a new address).
 */
export type WeakLinkMode = 'pass' | 'blackhole' | 'cut' | 'reset';

/** From `atMs` into the schedule (or its period), for `forMs`, the link is in `mode`; `pass` otherwise. */
export interface LinkPhase {
  atMs: number;
  mode: WeakLinkMode;
  /** 0 for a `reset` means: reset the connections open at `atMs`, then pass at once. */
  forMs: number;
}

export interface LinkSchedule {
  /** Repeat the phases every `periodMs`; without it they run once. */
  periodMs?: number;
  /** In time order, not overlapping, all within the period. */
  phases: readonly LinkPhase[];
}

export interface PerDirection<T> {
  /** Client to target (gateway to broker). */
  up: T;
  /** Target to client. */
  down: T;
}

export type Direction = keyof PerDirection<unknown>;

export interface LinkProfile {
  name: string;
  /** The least one-way delay, each direction, in ms. */
  delayMs: number;
  /** Extra one-way delay, uniform in [0, jitterMs]; never reorders bytes (see wire.ts). */
  jitterMs: number;
  /** Bits per second each direction; 0 = no cap. */
  rateBitsPerSec: PerDirection<number>;
  /** The modem's buffer, each direction: bytes accepted but not yet sent on the air. */
  bufferBytes: number;
  schedule?: LinkSchedule;
}

/** No delay, no cap (the buffer never fills without a rate): a plain proxy that can still fail on demand. */
export const UNSHAPED: LinkProfile = {
  name: 'unshaped',
  delayMs: 0,
  jitterMs: 0,
  rateBitsPerSec: { up: 0, down: 0 },
  bufferBytes: 256 * 1024,
};

const kbit = 1000;
const KB = 1024;

// Delays and rates are the issue's. Jitter: cellular one-way delay varies with scheduling and
// retransmissions on the radio side, more on the older, slower systems (tens of ms on 4G, hundreds
// on GPRS). Buffers: a modem holds some tens of KB; on the slow links that is seconds of data (the
// bufferbloat that makes latency grow under load), on 4G a fraction of a second.
const GOOD_4G: LinkProfile = {
  name: 'good-4g',
  delayMs: 25,
  jitterMs: 10,
  rateBitsPerSec: { up: 5000 * kbit, down: 5000 * kbit },
  bufferBytes: 64 * KB, // ~0.1 s at 5 Mbit/s
};
const WEAK_3G: LinkProfile = {
  name: 'weak-3g',
  delayMs: 150,
  jitterMs: 60,
  rateBitsPerSec: { up: 384 * kbit, down: 384 * kbit },
  bufferBytes: 48 * KB, // ~1 s at 384 kbit/s
};
const EDGE_2G: LinkProfile = {
  name: 'edge-2g',
  delayMs: 400,
  jitterMs: 100,
  rateBitsPerSec: { up: 100 * kbit, down: 100 * kbit },
  bufferBytes: 24 * KB, // ~2 s at 100 kbit/s
};
const GPRS: LinkProfile = {
  name: 'gprs',
  delayMs: 600,
  jitterMs: 200,
  rateBitsPerSec: { up: 40 * kbit, down: 40 * kbit },
  bufferBytes: 16 * KB, // ~3.3 s at 40 kbit/s
};

const MIN = 60_000;

export const PROFILES = {
  'good-4g': GOOD_4G,
  'weak-3g': WEAK_3G,
  'edge-2g': EDGE_2G,
  gprs: GPRS,
  /**
   * weak-3g that loses the cell every 5 minutes: 45 s of blackhole (TCP notices nothing), then the
   * modem is back with a new address and every old connection is reset.
   */
  flapping: {
    ...WEAK_3G,
    name: 'flapping',
    schedule: {
      periodMs: 5 * MIN,
      phases: [
        { atMs: 4 * MIN, mode: 'blackhole', forMs: 45_000 },
        { atMs: 4 * MIN + 45_000, mode: 'reset', forMs: 0 },
      ],
    },
  },
  /** weak-3g up for a minute, then 30 minutes of blackhole, then reset and up for good. */
  'outage-30min': {
    ...WEAK_3G,
    name: 'outage-30min',
    schedule: {
      phases: [
        { atMs: MIN, mode: 'blackhole', forMs: 30 * MIN },
        { atMs: 31 * MIN, mode: 'reset', forMs: 0 },
      ],
    },
  },
} satisfies Record<string, LinkProfile>;

export type ProfileName = keyof typeof PROFILES;

export function isProfileName(s: string): s is ProfileName {
  return Object.hasOwn(PROFILES, s);
}

/** The profile for a name (throws on an unknown one, naming the known ones), or the profile itself. */
export function profileOf(p: ProfileName | LinkProfile): LinkProfile {
  if (typeof p !== 'string') return checkProfile(p);
  if (!isProfileName(p)) throw new Error(`unknown link profile "${p}" (known: ${Object.keys(PROFILES).join(', ')})`);
  return PROFILES[p];
}

function checkProfile(p: LinkProfile): LinkProfile {
  const bad = (why: string) => new Error(`link profile "${p.name}": ${why}`);
  if (!(p.delayMs >= 0) || !(p.jitterMs >= 0)) throw bad('delayMs and jitterMs must be >= 0');
  if (!(p.rateBitsPerSec.up >= 0) || !(p.rateBitsPerSec.down >= 0)) throw bad('rates must be >= 0 (0: no cap)');
  if (!(p.bufferBytes >= SEGMENT_BYTES)) throw bad(`bufferBytes must hold a segment (${SEGMENT_BYTES} bytes)`);
  const s = p.schedule;
  if (!s) return p;
  let end = 0;
  for (const ph of s.phases) {
    if (!(ph.atMs >= end) || !(ph.forMs >= 0)) throw bad('schedule phases must be in order and not overlap');
    end = ph.atMs + ph.forMs;
  }
  if (s.periodMs !== undefined && !(s.periodMs > 0 && end <= s.periodMs)) throw bad('phases must fit in periodMs');
  return p;
}

/**
 * The raw link time for `bytes` in one direction: transmission at the profile's rate plus its
 * least one-way delay (jitter and outages left out). Benchmarks divide by it for a ratio.
 */
export function rawLinkMs(bytes: number, profile: ProfileName | LinkProfile, direction: Direction = 'up'): number {
  const p = profileOf(profile);
  const rate = p.rateBitsPerSec[direction];
  return (rate > 0 ? (bytes * 8 * 1000) / rate : 0) + p.delayMs;
}

/** A round trip: `upBytes` there, `downBytes` back (e.g. an MQTT PUBLISH and its PUBACK). */
export function rawRoundTripMs(upBytes: number, downBytes: number, profile: ProfileName | LinkProfile): number {
  return rawLinkMs(upBytes, profile, 'up') + rawLinkMs(downBytes, profile, 'down');
}
