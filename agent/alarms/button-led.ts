/** Which LED says "help is coming" for an alert's cause (moved out of local-alarms.ts, unchanged). */
import { EVENT_CATALOGUE } from '../../core/contracts/events/catalogue.js';

/**
 * The "help is coming" LED of the button a cause was pressed on: a wired button's `led`, an
 * output of its `device` (a radio button has none). Causes come back from alarms.json after a
 * restart, so the payload is parsed against the catalogue here, not trusted.
 */
export function buttonLed(cause: { type: string; data: unknown }): { device: string; led: string } | null {
  if (cause.type !== 'alarm.pressed') return null;
  const parsed = EVENT_CATALOGUE['alarm.pressed'].data.safeParse(cause.data);
  if (!parsed.success || 'line' in parsed.data) return null;
  const { device, led } = parsed.data;
  return device !== undefined && led !== undefined ? { device, led } : null;
}
