/**
 * The local rule engine: sees every event the moment it is captured (synchronously, from
 * the bus), before any disk or network, and fires actions. It never waits on the uplink,
 * the outbox or Node-RED. Durations, windows and cooldowns run on the monotonic clock, so a
 * wall clock that jumps (NTP after days offline, no RTC) cannot make a rule fire or stay
 * silent; only the time of day uses the wall clock, and a rule says what it does when the
 * clock is not synced.
 */
import type { Clock } from '../../core/kernel/clock.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import type { Rule, RuleAction } from '../../config/schema/rules.js';
import { compileMatch, inWindow, minutesOfDay, type Matcher } from './matcher.js';

export interface Firing {
  rule: Rule;
  /** The device the firing is about (the causing event's, or the silent one's). */
  deviceId: string;
  /** The events that caused it, oldest first (none for absence). */
  causes: GatewayEvent[];
  reason: string;
}

export type ActionRunner = (action: RuleAction, firing: Firing) => void;

export interface RuleEngineOptions {
  rules: Rule[];
  clock: Clock;
  timezone: string;
  tagsOf: (deviceId: string) => readonly string[];
  /** Devices carrying a tag, for absence rules that watch by tag. */
  devicesWithTag: (tag: string) => readonly string[];
  run: ActionRunner;
  /** Told after each firing (to persist cooldowns). */
  onFired?: (ruleId: string, deviceId: string) => void;
}

interface RuleState {
  rule: Rule;
  match: Matcher;
  until?: Matcher;
  first?: Matcher;
  counts: Map<string, number[]>;
  pending: Map<string, { deadline: number; cause: GatewayEvent }>;
  lastSeen: Map<string, { at: number; fired: boolean }>;
  firstSeen: { at: number; event: GatewayEvent } | null;
  lastFired: Map<string, number>;
}

export interface RuleStats {
  fired: number;
  suppressed: number;
  outsideWindow: number;
}

export class RuleEngine {
  readonly stats = new Map<string, RuleStats>();
  private readonly states: RuleState[];

  constructor(private readonly opts: RuleEngineOptions) {
    const now = opts.clock.monoMs();
    this.states = opts.rules.map((rule) => {
      const t = rule.trigger;
      const s: RuleState = {
        rule,
        match: compileMatch(rule.when, opts.tagsOf),
        counts: new Map(),
        pending: new Map(),
        lastSeen: new Map(),
        firstSeen: null,
        lastFired: new Map(),
        ...(t.kind === 'duration' ? { until: compileMatch(t.until, opts.tagsOf) } : {}),
        ...(t.kind === 'correlation' ? { first: compileMatch(t.first, opts.tagsOf) } : {}),
      };
      if (t.kind === 'absence') {
        // Watched from the start: a button that never speaks is as dead as one that stopped.
        const watched = new Set([
          ...(rule.when.devices ?? []),
          ...(rule.when.tags ?? []).flatMap((tag) => opts.devicesWithTag(tag)),
        ]);
        for (const d of watched) s.lastSeen.set(d, { at: now, fired: false });
      }
      this.stats.set(rule.id, { fired: 0, suppressed: 0, outsideWindow: 0 });
      return s;
    });
  }

  /** A cooldown carried over a restart: the rule last fired for the device `agoMs` ago. */
  restoreCooldown(ruleId: string, deviceId: string, agoMs: number): void {
    const s = this.states.find((x) => x.rule.id === ruleId);
    if (s) s.lastFired.set(deviceId, this.opts.clock.monoMs() - Math.max(0, agoMs));
  }

  /** Every captured event, synchronously. */
  onEvent(e: GatewayEvent): void {
    const now = this.opts.clock.monoMs();
    for (const s of this.states) {
      const t = s.rule.trigger;
      const matches = s.match(e);
      switch (t.kind) {
        case 'each':
          if (matches) this.fire(s, e.deviceId, [e], 'matched', now);
          break;
        case 'count': {
          if (!matches) break;
          const key = t.perDevice ? e.deviceId : '*';
          const times = (s.counts.get(key) ?? []).filter((at) => now - at < t.withinSec * 1000);
          times.push(now);
          if (times.length >= t.atLeast) {
            s.counts.delete(key);
            this.fire(s, e.deviceId, [e], `${times.length} in ${t.withinSec} s`, now);
          } else s.counts.set(key, times);
          break;
        }
        case 'duration':
          if (s.until!(e) && s.pending.get(e.deviceId)) s.pending.delete(e.deviceId);
          else if (matches && !s.pending.has(e.deviceId))
            s.pending.set(e.deviceId, { deadline: now + t.forSec * 1000, cause: e });
          break;
        case 'absence': {
          const seen = s.lastSeen.get(e.deviceId);
          if (seen && matches) s.lastSeen.set(e.deviceId, { at: now, fired: false });
          break;
        }
        case 'correlation':
          if (s.first!(e)) s.firstSeen = { at: now, event: e };
          else if (matches && s.firstSeen && now - s.firstSeen.at <= t.withinSec * 1000) {
            const first = s.firstSeen.event;
            s.firstSeen = null;
            this.fire(s, e.deviceId, [first, e], `${first.type} then ${e.type} within ${t.withinSec} s`, now);
          }
          break;
      }
    }
  }

  /** Fires what is due without an event: durations that ran out, devices gone silent. */
  tick(): void {
    const now = this.opts.clock.monoMs();
    for (const s of this.states) {
      const t = s.rule.trigger;
      if (t.kind === 'duration') {
        for (const [device, p] of s.pending) {
          if (now < p.deadline) continue;
          s.pending.delete(device);
          this.fire(s, device, [p.cause], `still ${p.cause.type} after ${t.forSec} s`, now);
        }
      } else if (t.kind === 'absence') {
        for (const [device, seen] of s.lastSeen) {
          if (seen.fired || now - seen.at < t.silentForSec * 1000) continue;
          seen.fired = true; // once per silence; any event re-arms it
          this.fire(s, device, [], `silent for ${t.silentForSec} s`, now);
        }
      }
    }
  }

  /** The next monotonic time tick() has something to do, if any. */
  nextDeadline(): number | null {
    let next = Infinity;
    for (const s of this.states) {
      const t = s.rule.trigger;
      if (t.kind === 'duration') for (const p of s.pending.values()) next = Math.min(next, p.deadline);
      if (t.kind === 'absence')
        for (const seen of s.lastSeen.values()) if (!seen.fired) next = Math.min(next, seen.at + t.silentForSec * 1000);
    }
    return next === Infinity ? null : next;
  }

  private fire(s: RuleState, deviceId: string, causes: GatewayEvent[], reason: string, now: number): void {
    const stats = this.stats.get(s.rule.id)!;
    const w = s.rule.window;
    if (w) {
      const synced = this.opts.clock.synced();
      const inside = synced
        ? inWindow(minutesOfDay(this.opts.clock.now(), this.opts.timezone), w.from, w.to)
        : w.whenClockUnsynced === 'fire';
      if (!inside) {
        stats.outsideWindow += 1;
        return;
      }
    }
    const last = s.lastFired.get(deviceId);
    if (last !== undefined && now - last < s.rule.cooldownSec * 1000) {
      stats.suppressed += 1;
      return;
    }
    s.lastFired.set(deviceId, now);
    stats.fired += 1;
    const firing: Firing = { rule: s.rule, deviceId, causes, reason };
    for (const action of s.rule.actions) this.opts.run(action, firing); // outputs first
    this.opts.onFired?.(s.rule.id, deviceId);
  }
}
