/**
 * What an input means: from a stream of raw samples (polled or pushed) to semantic events.
 * Polarity and debounce live here, apart from any transport, so every role is tested with
 * a fake clock. A door reports its state (also at start), a button its presses, a camera
 * alarm output its start and end.
 */
import type { EventInput, Priority } from '../agent/contracts/event.js';
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
    private readonly context: Record<string, unknown> = {},
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

  private event(type: string, priority: Priority, data: Record<string, unknown>): EventInput {
    return { deviceId: this.eventDeviceId, type, priority, data: { ...this.context, input: this.input, ...data } };
  }

  private initialEvents(active: boolean): EventInput[] {
    switch (this.role.role) {
      case 'door':
        return [this.event(active ? 'door.opened' : 'door.closed', 'high', { active, initial: true })];
      case 'input':
        return [this.event('input.changed', 'normal', { active, initial: true })];
      default:
        // A button held or a camera alarm already on when we start is still news.
        return active ? this.edgeEvents(true, { initial: true }) : [];
    }
  }

  private edgeEvents(active: boolean, extra: Record<string, unknown> = {}): EventInput[] {
    const r = this.role;
    switch (r.role) {
      case 'door':
        return [this.event(active ? 'door.opened' : 'door.closed', 'high', { active, ...extra })];
      case 'alarm-button':
        return [active ? this.event('alarm.pressed', 'critical', { active, ...(r.led ? { led: r.led } : {}), ...extra }) : this.event('alarm.released', 'normal', { active, ...extra })];
      case 'camera-alarm':
        return [this.event(active ? r.event : `${r.event}_ended`, active ? 'high' : 'normal', { active, ...(r.snapshotUrl ? { snapshotUrl: r.snapshotUrl } : {}), ...extra })];
      case 'input':
        return [this.event('input.changed', 'normal', { active, ...extra })];
      case 'ack-key':
        return active ? [this.event('alarm.ack_key', 'high', { active, ...extra })] : [];
    }
  }
}
