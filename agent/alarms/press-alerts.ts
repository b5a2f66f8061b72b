/**
 * Every resident press can be acknowledged. The county's `ack` names an alert, and lights the
 * pressing button's "help is coming" LED through it; a press that no rule raised an alert for
 * (no rule for that button, a rule outside its hours, a rule that counts presses) left the county
 * nothing to acknowledge and the resident no light. Such a press raises an alert of its own, rule
 * `press`, unless one is already open for a press of the same button (pressing again and again
 * while help is not yet acknowledged is one alert, as a rule's cooldown would make it).
 */
import type { GatewayEvent } from '../../core/contracts/event.js';
import type { StoredAlert } from './alarm-state.js';

/** The rule id of a press's own alert (no configured rule may use it). */
export const PRESS_RULE_ID = 'press';

export class PressCoverage {
  private readonly alerted = new Set<string>();
  /** Buttons whose press alert is being stored (not yet among the active alerts). */
  private readonly raising = new Set<string>();

  /** A rule's alert action ran for these events (called while the rules see an event). */
  covered(causes: readonly { id: string }[]): void {
    for (const c of causes) this.alerted.add(c.id);
  }

  /** After the rules saw `e`: true when it is a press that needs an alert of its own. */
  needsAlert(e: GatewayEvent, active: Iterable<StoredAlert>): boolean {
    const covered = this.alerted.has(e.id);
    this.alerted.clear();
    if (e.type !== 'alarm.pressed' || covered || this.raising.has(e.deviceId)) return false;
    for (const a of active)
      if (a.ackedAt === null && a.causes.some((c) => c.type === 'alarm.pressed' && c.deviceId === e.deviceId))
        return false;
    return true;
  }

  /** Until `done` settles, further presses of this button wait on this alert rather than raise another. */
  raisingFor<T>(deviceId: string, done: Promise<T>): Promise<T> {
    this.raising.add(deviceId);
    return done.finally(() => this.raising.delete(deviceId));
  }
}
