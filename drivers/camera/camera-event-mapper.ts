/**
 * From a vendor event (decoded from the stream) to a catalogue event, by the profile: which
 * `camera.*` type a code is, whether it is an alarm, stateful or a pulse. Storms are
 * debounced here: one event per type, channel and region per `debounceMs`; what was held
 * back is counted in the next event sent for that key (`count`, `suppressed`), so the county
 * sees how busy the camera was without a message per report.
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
    const base = {
      protocol: this.profile.protocol,
      code: ev.code,
      channel: ev.channel,
      region: ev.region,
      cameraTime: ev.cameraTime,
      alarm: rule.alarm,
    };
    if (ev.state === 'stop') {
      if (!k.active) return null; // an end with no start seen (we connected mid-event)
      k.active = false;
      if (k.quiet) return null;
      const type = `${rule.type}_ended` as CameraEventInput['type'];
      return {
        deviceId: this.deviceId,
        type,
        priority: 'normal',
        data: { ...base, count: k.period },
      } as CameraEventInput;
    }
    if (ev.state === 'start' && k.active) {
      k.period += 1; // Hikvision repeats "active" every second while the motion lasts
      return null;
    }
    k.pending += 1;
    if (ev.state === 'start') {
      k.active = true;
      k.period = 1;
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
   * The stream was lost: what was active is unknown now (its end may have gone with the
   * stream). Forgotten, so the camera's next start is reported rather than taken for a repeat.
   */
  forgetStates(): void {
    for (const k of this.keys.values()) {
      k.active = false;
      k.quiet = false;
    }
  }

  private key(name: string): KeyState {
    let k = this.keys.get(name);
    if (!k) {
      if (this.keys.size >= MAX_KEYS && !name.endsWith('|*')) return this.key(`${name.split('|')[0]}|*`);
      k = { active: false, quiet: false, lastSentMs: -Infinity, pending: 0, period: 0 };
      this.keys.set(name, k);
    }
    return k;
  }
}
