/**
 * The alarm state that must survive a reboot, so a restart neither silences nor re-fires:
 * active alerts and their acknowledgements, rule cooldowns, outputs still pulsing, SMS
 * not yet sent, "help is coming" LEDs still lit and when they go out. Small, so lowdb suits
 * it, written through a durable adapter (temp file, fsync, rename, fsync the folder): lowdb's
 * own writer does not fsync.
 */
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { writeFileDurably } from '../durable-file.js';
import { readAlarmStateFile, type StateFileProblem } from './alarm-state-file.js';

export interface StoredAlert {
  alertId: string;
  ruleId: string;
  deviceId: string;
  message: string;
  raisedAt: string;
  raisedAtMs: number;
  causes: { id: string; type: string; deviceId: string; data: Record<string, unknown> }[];
  sms: 'always' | 'fallback' | 'never';
  ackedAt: string | null;
  ackedBy: string | null;
  escalatedAt: string | null;
  smsSentAt: string | null;
}

export interface StoredPulse {
  device: string;
  output: string;
  untilMs: number;
  durationMs?: number;
}

/** A "help is coming" LED the county's ack lit, until it goes out (help-leds.ts). */
export interface StoredLed {
  alertId: string;
  device: string;
  output: string;
  /** The button's event device id: its release puts the LED out when `atReset`. */
  button: string;
  /** Wall-clock ms it goes out (null: no timer), for a restart only: while running it is timed on the monotonic clock. */
  offAtMs: number | null;
  /** How long it was to stay lit: caps what a restart restores, so a clock set back cannot stretch it. */
  forMs: number | null;
  /** The button was still held at the ack (a latching button): letting it go (a reset on site) puts the LED out. */
  atReset: boolean;
}

/** Whose budget an SMS spends: residents' alarms and the gateway's own, or a Node-RED flow's (sms-queue.ts). */
export type SmsKind = 'alarm' | 'flow';

export interface PendingSms {
  id: string;
  to: string;
  text: string;
  alertId: string | null;
  reason: string;
  attempts: number;
  /** Wall-clock ms, for a restart only (while running the queue waits on the monotonic clock). */
  notBeforeMs: number;
  /** Absent: an alarm's (files written before flows had their own budget). */
  kind?: SmsKind;
}

export interface AlarmStateData {
  version: 1;
  alerts: StoredAlert[];
  /**
   * `rule|device` -> wall-clock ms of the last firing (cooldowns across restarts; the rule
   * engine clamps what it restores, so a clock set back yields at most one full cooldown).
   */
  lastFired: Record<string, number>;
  /**
   * Outputs the gateway is pulsing itself, until wall-clock ms (for a restart only: while
   * running, pulses are timed on the monotonic clock). `durationMs` caps what a restart
   * resumes, so a wall clock set back meanwhile cannot stretch a siren pulse.
   */
  pulses: StoredPulse[];
  sms: PendingSms[];
  /** Lit "help is coming" LEDs and when each goes out. */
  leds: StoredLed[];
}

const EMPTY: AlarmStateData = { version: 1, alerts: [], lastFired: {}, pulses: [], sms: [], leds: [] };

class DurableJsonFile implements Adapter<AlarmStateData> {
  problem: StateFileProblem | null = null;

  constructor(private readonly file: string) {}

  async read(): Promise<AlarmStateData | null> {
    const { data, problem } = readAlarmStateFile(this.file);
    this.problem = problem;
    return data ? (data as AlarmStateData) : null; // the schema checked every field the agent reads
  }

  async write(data: AlarmStateData): Promise<void> {
    writeFileDurably(this.file, JSON.stringify(data));
  }
}

/** The alarm state, and what was wrong with the file if it could not be used (kept aside, to be reported). */
export async function openAlarmState(
  dataDir: string,
): Promise<{ db: Low<AlarmStateData>; problem: StateFileProblem | null }> {
  const adapter = new DurableJsonFile(join(dataDir, 'alarms.json'));
  const db = new Low<AlarmStateData>(adapter, structuredClone(EMPTY));
  await db.read();
  return { db, problem: adapter.problem };
}

/**
 * How many acknowledged alerts are remembered (the newest by acknowledgement): a county that
 * re-sends an ack gets "already acknowledged" rather than UNKNOWN_ALERT.
 */
export const ACKED_KEEP_MAX = 200;

/**
 * The acknowledged alerts to forget: all but the newest `keep`. Without this every alert stayed
 * in alarms.json for the gateway's life, and that file is rewritten and fsynced whole before
 * each new alert commits. A count, not an age: a wall clock set forward by a month must not
 * change what is remembered. An alert nobody acknowledged is never forgotten.
 */
export function acknowledgedToForget(alerts: readonly StoredAlert[], keep = ACKED_KEEP_MAX): string[] {
  const acked = alerts
    .filter((a) => a.ackedAt !== null)
    .sort((x, y) => Date.parse(y.ackedAt!) - Date.parse(x.ackedAt!));
  return acked.slice(keep).map((a) => a.alertId);
}
