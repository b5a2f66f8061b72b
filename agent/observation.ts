/**
 * What a running agent lets others see: the `status` command, the demo, benchmarks and tests
 * observe through this, never through the agent's parts. Every method returns a fresh
 * snapshot (or, for on*, an unsubscribe function); nothing here changes the agent.
 */
import type { BusDescription, DriverDescription } from '../core/contracts/driver.js';
import type { GatewayEvent } from '../core/contracts/event.js';
import type { ActiveAlert, LocalAlarms } from './alarms/local-alarms.js';
import type { PendingSms } from './alarms/alarm-state.js';
import type { SmsBudget } from './alarms/sms-queue.js';
import type { LostAlarmsReport } from './lost-alarms.js';
import type { EventBus } from './event-bus.js';
import type { Outbox, OutboxStats } from './outbox/outbox.js';
import type { RuleStats } from './rules/rule-engine.js';
import type { PayloadProblems } from './payload-problems.js';
import type { StorageFailures } from './storage-failures.js';
import type { StorageWatch } from './storage-watch.js';
import type { Uplink, UplinkStats } from './uplink/uplink.js';
import type { NodeRedReport } from './nodered/supervisor.js';
import type { MediaReport } from './media/media-sender.js';

export interface AlarmsReport {
  /** Every alert the gateway still tracks, acknowledged or not (copies). */
  alerts: ActiveAlert[];
  smsPending: PendingSms[];
  smsSent: number;
  smsFailed: number;
  /** This hour's SMS budget, alarms' and flows' (null before the alarms started). */
  smsBudget: SmsBudget | null;
  rules: Record<string, RuleStats>;
}

export interface StorageReport {
  failures: Record<string, number>;
  eventsNotStored: number;
  /** Failed rewrites of the agent's state files (alarms.json), by file. */
  filesNotSaved: Record<string, number>;
  lastError: string | null;
  /** Why the data folder is lost (read-only, vanished), or null while it works. */
  lost: string | null;
}

/** The parts observed, once the agent has started (before, asking for them throws OUTBOX_CLOSED). */
export interface ObservedParts {
  identity: { gatewayId: string; bootId: string; version: string; configHash: string };
  outbox: Outbox;
  uplink: Uplink;
  alarms: LocalAlarms;
  storageFailures: StorageFailures;
  storageWatch: StorageWatch;
  /** Events whose data did not match the catalogue or could not be read (payload-problems.ts). */
  payloadProblems: Pick<PayloadProblems, 'count' | 'refusedCount'>;
  /** Alarms the disk could not keep (lost-alarms.ts). */
  lostAlarms(): LostAlarmsReport;
  devices(): DriverDescription[];
  buses(): BusDescription[];
  /** The Node-RED child's report; null when Node-RED is not configured. */
  nodeRed: (() => NodeRedReport) | null;
  /** Camera pictures: stored, waiting to go up, sent (media-sender.ts). */
  media(): MediaReport;
}

export interface ObservationSources {
  /** The bus exists before start: a watcher may subscribe to it at once. */
  bus: EventBus;
  /** Commits, relayed from the outbox once it is open: a watcher may subscribe before start. */
  onStored(listener: (events: GatewayEvent[]) => void): () => void;
  parts(): ObservedParts;
}

export class AgentObservation {
  constructor(private readonly s: ObservationSources) {}

  private get p(): ObservedParts {
    return this.s.parts();
  }

  get bootId(): string {
    return this.p.identity.bootId;
  }

  /** Every event as it is captured, before it is durable (what local rules see). */
  onEvent(listener: (event: GatewayEvent) => void): () => void {
    return this.s.bus.subscribe(listener);
  }

  /** Events once they are committed to the outbox, in commit order. */
  onStored(listener: (events: GatewayEvent[]) => void): () => void {
    return this.s.onStored(listener);
  }

  backlog(): OutboxStats {
    return this.p.outbox.stats();
  }

  link(): UplinkStats & { up: boolean } {
    return { ...this.p.uplink.stats(), up: this.p.uplink.isUp };
  }

  devices(): DriverDescription[] {
    return this.p.devices();
  }

  buses(): BusDescription[] {
    return this.p.buses();
  }

  bus(id: string): BusDescription | undefined {
    return this.p.buses().find((b) => b.id === id);
  }

  alarms(): AlarmsReport {
    const all = [...this.p.alarms.active.values()];
    const sms = this.p.alarms.sms;
    return {
      alerts: all.map((a) => ({ ...a, causes: [...a.causes] })),
      smsPending: sms ? sms.pending.map((m) => ({ ...m })) : [],
      smsSent: sms?.sent ?? 0,
      smsFailed: sms?.failed ?? 0,
      smsBudget: sms?.budget() ?? null,
      rules: Object.fromEntries([...this.p.alarms.engine.stats].map(([id, s]) => [id, { ...s }])),
    };
  }

  storage(): StorageReport {
    const f = this.p.storageFailures;
    return {
      failures: { ...f.counts },
      eventsNotStored: f.eventsNotStored,
      filesNotSaved: { ...f.filesNotSaved },
      lastError: f.lastError,
      lost: this.p.storageWatch.lost,
    };
  }

  /**
   * Events since start whose data did not match the catalogue (refused; an alarm-class one kept
   * and flagged payloadInvalid) or that the county could not read (refused): `problems` all of
   * them (health's payloadProblems), `refused` those not stored.
   */
  payloads(): { problems: number; refused: number } {
    return { problems: this.p.payloadProblems.count, refused: this.p.payloadProblems.refusedCount };
  }

  /** Alarms the disk could not keep: how many since start, the last few (seq, type, device, time). */
  lostAlarms(): LostAlarmsReport {
    return this.p.lostAlarms();
  }

  /** The Node-RED child (state, restarts, dropped events, safe mode); null when not configured. */
  nodeRed(): NodeRedReport | null {
    return this.p.nodeRed?.() ?? null;
  }

  /** The `status` command's answer. */
  status(): Record<string, unknown> {
    const { version, configHash } = this.p.identity;
    const alarms = this.alarms();
    return {
      version,
      configHash,
      outbox: this.backlog(),
      uplink: this.p.uplink.stats(),
      devices: this.devices(),
      ...(this.p.nodeRed ? { nodeRed: this.p.nodeRed() } : {}),
      alarms: {
        active: alarms.alerts
          .filter((a) => !a.ackedAt)
          .map((a) => ({
            alertId: a.alertId,
            rule: a.ruleId,
            deviceId: a.deviceId,
            raisedAt: a.raisedAt,
            smsSentAt: a.smsSentAt,
          })),
        acknowledged: alarms.alerts.filter((a) => a.ackedAt).length,
        smsPending: alarms.smsPending.length,
        smsSent: alarms.smsSent,
        smsFailed: alarms.smsFailed,
        smsBudget: alarms.smsBudget,
        rules: alarms.rules,
      },
      lostAlarms: this.lostAlarms(),
      media: this.p.media(),
    };
  }
}
