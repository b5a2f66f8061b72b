/**
 * The alarm path's parts: the local rules (LocalAlarms: rules, outputs, SMS) and the report
 * of alarms the disk could not keep (LostAlarms), wired to the event pipeline and the uplink.
 */
import type { AgentSide } from './agent-options.js';
import { LocalAlarms, type LocalAlarmsPorts } from './alarms/local-alarms.js';
import type { EventPipeline } from './event-pipeline.js';
import { LostAlarms } from './lost-alarms.js';
import type { Uplink } from './uplink/uplink.js';

export interface AlarmParts {
  alarms: LocalAlarms;
  lost: LostAlarms;
}

export interface AlarmWiring {
  a: AgentSide;
  pipeline: EventPipeline;
  uplink: Uplink;
  /** A write of the alarm state failed (StorageFailures counts it). */
  notSaved(file: string, err: Error): void;
  /** Events the outbox refused (StorageFailures counts them). */
  refused(n: number, err: Error): void;
  /** A rule's `snapshot` action (the media part takes the picture). */
  snapshot: NonNullable<LocalAlarmsPorts['snapshot']>;
}

export function wireAlarms({ a, pipeline, uplink, notSaved, refused, snapshot }: AlarmWiring): AlarmParts {
  const { config, logger } = a.opts;
  const alarms = new LocalAlarms({
    config,
    clock: a.clock,
    logger: logger.child({ part: 'alarms' }),
    emit: (e, beforeCommit) => pipeline.emit(e, beforeCommit),
    write: (c) => a.write(c),
    subscribe: (l) => a.bus.subscribe(l),
    on: (type, handler) => a.bus.on(type, handler),
    ...uplink.alarmPorts(), // how long it has been down, and which alarms it has not delivered in time
    smsSender: () => a.smsModem(),
    notSaved,
    snapshot,
  });
  const lost = new LostAlarms({
    gatewayId: config.gateway.id,
    logger: logger.child({ part: 'storage' }),
    emit: (e, beforeCommit) => pipeline.emit(e, beforeCommit),
    sendFromMemory: (e) => uplink.sendFromMemory(e),
    store: (e) => pipeline.store(e),
    sms: (id) => alarms.smsForUnstored(id),
    refused,
  });
  return { alarms, lost };
}
