/**
 * The alarm state on disk (alarms.json, alarm-state.ts), as the local alarms keep it: read
 * back at start into monotonic timings, and saved after each change.
 *
 * Saving: on the alarm path the durable write (an fsync) waits until the siren's frame is on
 * its way (`soon`: setImmediate runs after the bus request's microtasks), and bursts become one
 * write; `now` writes before returning (the adapter writes synchronously, lowdb's promise only
 * wraps it). A write that fails (a full or read-only card) keeps the state in memory and is
 * told to `notSaved`: on a full card every change fails alike, about ten a press, so the agent
 * counts them and logs them at most once a second with its other storage failures
 * (storage-failures.ts). The next change that can be written saves everything.
 *
 * Reading back: what was timed on the wall clock before the restart becomes monotonic,
 * clamped, so a clock that was set back meanwhile cannot stretch a wait or a siren pulse.
 */
import type { Low } from 'lowdb';
import type { Logger } from 'pino';
import type { Clock } from '../../core/kernel/clock.js';
import type { OutputCommand } from '../../core/contracts/driver.js';
import type { EventInput } from '../../core/contracts/event.js';
import { openAlarmState, type AlarmStateData, type StoredPulse } from './alarm-state.js';
import { failure } from '../../core/kernel/errors.js';

/**
 * Opens alarms.json. An unusable file is kept aside, logged and reported
 * (`gateway.state_recovered`): the agent starts with no remembered alerts, cooldowns, pulses
 * or queued SMS rather than not at all; the outbox still holds every alert event.
 */
export async function openSavedState(
  dataDir: string,
  o: { logger: Logger; gatewayId: string; emit(e: EventInput): Promise<unknown> },
): Promise<Low<AlarmStateData>> {
  const opened = await openAlarmState(dataDir);
  if (opened.problem) {
    o.logger.error(
      failure('STATE_UNREADABLE', null, opened.problem),
      'alarm state file unusable: kept aside, starting without it',
    );
    void o
      .emit({
        deviceId: o.gatewayId,
        type: 'gateway.state_recovered',
        priority: 'high',
        data: { ...opened.problem, file: 'alarms.json' },
      })
      .catch((err: Error) => o.logger.error(failure('STORAGE_FAILED', err), 'gateway.state_recovered not stored'));
  }
  return opened.db;
}

export class AlarmStateSaver {
  /** Writes of alarms.json that failed since start (the state lived on in memory). */
  failures = 0;
  private scheduled = false;

  constructor(
    private readonly db: Low<AlarmStateData>,
    /** Brings `db.data` up to date just before each write (the active alerts). */
    private readonly beforeSave: () => void,
    private readonly notSaved: (err: Error) => void,
  ) {}

  get data(): AlarmStateData {
    return this.db.data;
  }

  /** Saves once the current turn of the event loop is done (one write for a burst of changes). */
  soon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.now();
    });
  }

  /** Saves now; never rejects (a failure is told to `notSaved`). */
  now(): Promise<void> {
    this.beforeSave();
    return this.db.write().catch((err: Error) => {
      this.failures += 1;
      this.notSaved(err);
    });
  }
}

/** The monotonic timings of a restored state: when each alert was raised, when each pulse ends. */
export interface RestoredTimings {
  raisedMono: Map<string, number>;
  pulseEnds: Map<StoredPulse, number>;
}

export function restoreTimings(data: AlarmStateData, clock: Clock): RestoredTimings {
  const now = clock.now();
  const mono = clock.monoMs();
  const raisedMono = new Map<string, number>();
  const pulseEnds = new Map<StoredPulse, number>();
  // Raised before the restart: how long ago by the wall clock, never less than nothing.
  for (const a of data.alerts) raisedMono.set(a.alertId, mono - Math.max(0, now - a.raisedAtMs));
  // What is left of a pulse by the wall clock, but never more than the pulse was: the clock may have been set back.
  for (const p of data.pulses) pulseEnds.set(p, mono + Math.min(p.untilMs - now, p.durationMs ?? Infinity));
  return { raisedMono, pulseEnds };
}

/** Restored pulses, once the drivers are up: finished for what is left of them, or ended if a crash left one on. */
export function resumedPulses(
  pulses: readonly StoredPulse[],
  ends: ReadonlyMap<StoredPulse, number>,
  mono: number,
): OutputCommand[] {
  return pulses.map((p) => {
    const left = (ends.get(p) ?? mono) - mono;
    return left > 0
      ? { deviceId: p.device, output: p.output, action: 'pulse', durationMs: left }
      : { deviceId: p.device, output: p.output, action: 'off' };
  });
}

/** Forgets pulses that have ended (monotonic: a wall-clock jump neither ends nor prolongs one); true if any did. */
export function dropEndedPulses(data: AlarmStateData, ends: Map<StoredPulse, number>, mono: number): boolean {
  const before = data.pulses.length;
  data.pulses = data.pulses.filter((p) => {
    const live = (ends.get(p) ?? -Infinity) > mono;
    if (!live) ends.delete(p);
    return live;
  });
  return data.pulses.length !== before;
}
