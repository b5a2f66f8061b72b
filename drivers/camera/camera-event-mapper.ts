/**
 * From a vendor event (decoded from the stream) to a catalogue event, by the profile: which
 * `camera.*` type a code is, whether it is an alarm, stateful or a pulse. Storms are
 * debounced here: one event per type, channel and region per `debounceMs`; what was held
 * back is counted in the next event sent for that key (`count`, `suppressed`), so the county
 * sees how busy the camera was without a message per report.
 *
 * A state the camera turned on and never turned off (its end lost with a cut stream, a
 * firmware that forgets it) does not stay on forever: not repeated within `stateTimeoutMs`,
 * it ends with `reason: 'timeout'` (expire()). When the stream is lost, every open state ends
 * at once with `reason: 'lost'` (endAll()): its real end may have gone with the stream, and
 * the camera's next start after the reconnect must be reported, not taken for a repeat.
 */
import type { CameraProfile } from '../../config/schema/profile.js';
import type { CataloguedEventInput } from '../../core/contracts/events/catalogue.js';
import type { VendorEvent } from './camera-event.js';

type Rule = CameraProfile['events'][string];
export type CameraEventInput = CataloguedEventInput<
  | 'camera.motion'
  | 'camera.motion_ended'
  | 'camera.tamper'
  | 'camera.tamper_ended'
  | 'camera.video_lost'
  | 'camera.video_lost_ended'
  | 'camera.alarm_input'
  | 'camera.alarm_input_ended'
  | 'camera.line_crossed'
  | 'camera.intrusion'
>;

interface KeyState {
  active: boolean;
  /** The start of this active period was held back: its end is too. */
  quiet: boolean;
  lastSentMs: number;
  /** Reports since the last event sent for this key (held-back starts and pulses). */
  pending: number;
  /** Active reports in the current period (the start and the camera's repeats). */
  period: number;
  /** When the camera last said the state is on (its start or a repeat): the state timeout runs from it. */
  lastOnMs: number;
  /** The ended event's type and fields, kept from the start: an end the camera never sends is made of them. */
  ended: { type: CameraEventInput['type']; base: Base } | null;
}

interface Base {
  protocol: CameraProfile['protocol'];
  code: string;
  channel: number | null;
  region: string | null;
  cameraTime: string | null;
  alarm: boolean;
}

/** Regions a camera may name before further ones share one key: a storm of made-up names stays bounded. */
const MAX_KEYS = 256;

export class CameraEventMapper {
  /** Reports held back by the debounce, and codes the profile does not map. */
  suppressed = 0;
  unmapped = 0;
  private readonly rules = new Map<string, Rule>();
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly deviceId: string,
    private readonly profile: CameraProfile,
    private readonly debounceMs: number,
    private readonly channels: readonly number[],
    private readonly now: () => number,
    private readonly stateTimeoutMs = Infinity,
  ) {
    for (const [code, rule] of Object.entries(profile.events)) this.rules.set(code.toLowerCase(), rule);
  }

  /** The set of codes the profile marks as pulses (lower case), for the decoders. */
  static pulseCodes(profile: CameraProfile): Set<string> {
    return new Set(
      Object.entries(profile.events)
        .filter(([, r]) => r.kind === 'pulse')
        .map(([c]) => c.toLowerCase()),
    );
  }

  /** The event to emit for this report, or null (unmapped, filtered, a repeat, debounced). */
  map(ev: VendorEvent): CameraEventInput | null {
    const rule = this.rules.get(ev.code.toLowerCase());
    if (!rule) {
      this.unmapped += 1;
      return null;
    }
    const isInput = rule.type === 'camera.alarm_input';
    if (!isInput && this.channels.length > 0 && ev.channel !== null && !this.channels.includes(ev.channel)) return null;
    const k = this.key(`${rule.type}|${ev.channel ?? ''}|${ev.region ?? ''}`);
    const now = this.now();
    const base: Base = {
      protocol: this.profile.protocol,
      code: ev.code,
      channel: ev.channel,
      region: ev.region,
      cameraTime: ev.cameraTime,
      alarm: rule.alarm,
    };
    const endedType = `${rule.type}_ended` as CameraEventInput['type'];
    if (ev.initial) return this.initial(ev, k, now, { type: endedType, base });
    if (ev.state === 'stop') {
      if (!k.active) return null; // an end with no start seen (we connected mid-event)
      k.active = false;
      if (k.quiet) return null;
      return this.endedEvent(k, { ...base, count: k.period });
    }
    if (ev.state === 'start' && k.active) {
      k.period += 1; // Hikvision repeats "active" every second while the motion lasts
      k.lastOnMs = now;
      return null;
    }
    k.pending += 1;
    if (ev.state === 'start') {
      k.active = true;
      k.period = 1;
      k.lastOnMs = now;
      k.ended = { type: endedType, base };
    }
    if (now - k.lastSentMs < this.debounceMs) {
      k.quiet = ev.state === 'start';
      this.suppressed += 1;
      return null;
    }
    k.quiet = false;
    k.lastSentMs = now;
    const count = k.pending;
    k.pending = 0;
    const data = { ...base, count, ...(count > 1 ? { suppressed: count - 1 } : {}) };
    return {
      deviceId: this.deviceId,
      type: rule.type,
      priority: rule.alarm ? 'high' : 'normal',
      data,
    } as CameraEventInput;
  }

  /**
   * ONVIF's `Initialized` burst (at every subscribe): the state as it is, set without an
   * event, so a reconnect over a flaky link raises no alarm. A state on since then ends
   * silently too; one we had reported as on and the camera now says is off ends as usual.
   */
  private initial(ev: VendorEvent, k: KeyState, now: number, ended: KeyState['ended']): CameraEventInput | null {
    if (ev.state === 'pulse') return null;
    if (ev.state === 'start') {
      if (!k.active) Object.assign(k, { active: true, quiet: true, period: 1, ended });
      k.lastOnMs = now;
      return null;
    }
    if (!k.active) return null;
    k.active = false;
    return k.quiet ? null : this.endedEvent(k, { ...ended!.base, count: k.period });
  }

  /** Open states not repeated within the state timeout: ended, with `reason: 'timeout'`. */
  expire(): CameraEventInput[] {
    const now = this.now();
    const out: CameraEventInput[] = [];
    for (const k of this.keys.values()) {
      if (!k.active || now - k.lastOnMs < this.stateTimeoutMs) continue;
      k.active = false;
      if (!k.quiet) out.push(this.endedEvent(k, { ...k.ended!.base, count: k.period, reason: 'timeout' }));
    }
    return out;
  }

  /**
   * The stream was lost: what was on is unknown now (its end may have gone with the stream).
   * Each open state ends with `reason: 'lost'`, so the county never holds a state the gateway
   * cannot vouch for, and the camera's next start is reported rather than taken for a repeat.
   */
  endAll(): CameraEventInput[] {
    const out: CameraEventInput[] = [];
    for (const k of this.keys.values()) {
      if (k.active && !k.quiet) out.push(this.endedEvent(k, { ...k.ended!.base, count: k.period, reason: 'lost' }));
      k.active = false;
      k.quiet = false;
    }
    return out;
  }

  private endedEvent(k: KeyState, data: Record<string, unknown>): CameraEventInput {
    return { deviceId: this.deviceId, type: k.ended!.type, priority: 'normal', data } as CameraEventInput;
  }

  private key(name: string): KeyState {
    let k = this.keys.get(name);
    if (!k) {
      if (this.keys.size >= MAX_KEYS && !name.endsWith('|*')) return this.key(`${name.split('|')[0]}|*`);
      k = { active: false, quiet: false, lastSentMs: -Infinity, pending: 0, period: 0, lastOnMs: 0, ended: null };
      this.keys.set(name, k);
    }
    return k;
  }
}
