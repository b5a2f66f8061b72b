/**
 * What an input means: from a stream of raw samples (polled or pushed) to semantic events.
 * Polarity and debounce live here, apart from any transport, so every role is tested with
 * a fake clock. A door reports its state (also at start), a button its presses, a camera
 * alarm output its start and end.
 */
import type { EventInput } from '../core/contracts/event.js';
import { inputEventDeviceId, type InputRole } from '../config/schema/devices.js';

export class InputTracker {
  private stable: boolean | undefined;
  private candidate: boolean | undefined;
  private candidateSinceMs = 0;
  changes = 0;

  constructor(
    readonly deviceId: string,
    readonly input: string,
    readonly role: InputRole,
    /** Where the input is, for consumers (the alarms light a button's LED on `device`). */
    private readonly context: { device?: string; unitId?: number } = {},
  ) {}

  get eventDeviceId(): string {
    return inputEventDeviceId(this.deviceId, this.input, this.role);
  }

  get active(): boolean | undefined {
    return this.stable;
  }

  /** Feeds one raw sample taken at `nowMs` (monotonic); returns the events it settles. */
  sample(raw: boolean | number, nowMs: number): EventInput[] {
    const level = typeof raw === 'number' ? raw !== 0 : raw;
    const active = this.role.activeLevel === 'high' ? level : !level;
    if (this.stable === undefined) {
      this.stable = active;
      return this.initialEvents(active);
    }
    if (active === this.stable) {
      this.candidate = undefined;
      return [];
    }
    if (this.candidate !== active) {
      this.candidate = active;
      this.candidateSinceMs = nowMs;
    }
    if (nowMs - this.candidateSinceMs < this.role.debounceMs) return [];
    this.stable = active;
    this.candidate = undefined;
    this.changes += 1;
    return this.edgeEvents(active);
  }

  /** What every event of this input says: where it is, which input, its state. */
  private data(active: boolean, extra: { initial?: true }) {
    return { ...this.context, input: this.input, active, ...extra };
  }

  private initialEvents(active: boolean): EventInput[] {
    const deviceId = this.eventDeviceId;
    switch (this.role.role) {
      case 'door':
        return [
          {
            deviceId,
            type: active ? 'door.opened' : 'door.closed',
            priority: 'high',
            data: this.data(active, { initial: true }),
          },
        ];
      case 'input':
        return [{ deviceId, type: 'input.changed', priority: 'normal', data: this.data(active, { initial: true }) }];
      default:
        // A button held or a camera alarm already on when we start is still news.
        return active ? this.edgeEvents(true, { initial: true }) : [];
    }
  }

  private edgeEvents(active: boolean, extra: { initial?: true } = {}): EventInput[] {
    const r = this.role;
    const deviceId = this.eventDeviceId;
    switch (r.role) {
      case 'door':
        return [
          { deviceId, type: active ? 'door.opened' : 'door.closed', priority: 'high', data: this.data(active, extra) },
        ];
      case 'alarm-button':
        return [
          active
            ? {
                deviceId,
                type: 'alarm.pressed',
                priority: 'critical',
                data: { ...this.data(active, {}), ...(r.led ? { led: r.led } : {}), ...extra },
              }
            : { deviceId, type: 'alarm.released', priority: 'normal', data: this.data(active, extra) },
        ];
      case 'camera-alarm':
        return [
          {
            deviceId,
            type: active ? r.event : `${r.event}_ended`,
            priority: active ? 'high' : 'normal',
            data: { ...this.data(active, {}), ...(r.snapshotUrl ? { snapshotUrl: r.snapshotUrl } : {}), ...extra },
          },
        ];
      case 'input':
        return [{ deviceId, type: 'input.changed', priority: 'normal', data: this.data(active, extra) }];
      case 'ack-key':
        return active ? [{ deviceId, type: 'alarm.ack_key', priority: 'high', data: this.data(active, extra) }] : [];
    }
  }
}
