/**
 * The alarm state that must survive a reboot, so a restart neither silences nor re-fires:
 * active alerts and their acknowledgements, rule cooldowns, outputs still pulsing, SMS
 * not yet sent. Small, so lowdb suits it, written through a durable adapter (temp file,
 * fsync, rename, fsync the folder): lowdb's own writer does not fsync.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { writeFileDurably } from '../durable-file.js';

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

export interface PendingSms {
  id: string;
  to: string;
  text: string;
  alertId: string | null;
  reason: string;
  attempts: number;
  notBeforeMs: number;
}

export interface AlarmStateData {
  version: 1;
  alerts: StoredAlert[];
  /** `rule|device` -> wall-clock ms of the last firing (cooldowns across restarts). */
  lastFired: Record<string, number>;
  /** Outputs the gateway is pulsing itself, until wall-clock ms. */
  pulses: { device: string; output: string; untilMs: number }[];
  sms: PendingSms[];
}

const EMPTY: AlarmStateData = { version: 1, alerts: [], lastFired: {}, pulses: [], sms: [] };

class DurableJsonFile implements Adapter<AlarmStateData> {
  constructor(private readonly file: string) {}

  async read(): Promise<AlarmStateData | null> {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as AlarmStateData;
      return parsed.version === 1 ? { ...EMPTY, ...parsed } : null;
    } catch {
      return null; // missing, or torn: start clean (the outbox still has every alert event)
    }
  }

  async write(data: AlarmStateData): Promise<void> {
    writeFileDurably(this.file, JSON.stringify(data));
  }
}

export async function openAlarmState(dataDir: string): Promise<Low<AlarmStateData>> {
  const db = new Low<AlarmStateData>(new DurableJsonFile(join(dataDir, 'alarms.json')), structuredClone(EMPTY));
  await db.read();
  return db;
}
