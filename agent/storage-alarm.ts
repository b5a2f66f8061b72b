/**
 * The data folder is lost (read-only, vanished, replaced): a critical local alarm, since
 * events can no longer be kept. Sirens play their test pattern, an SMS goes out where a
 * modem is configured, and the event reaches local rules (and the county, if the link is up).
 */
import type { Logger } from 'pino';
import type { OutputCommand } from '../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../core/contracts/event.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { failure } from '../core/kernel/errors.js';
import { textsFor } from './i18n/texts.js';

export interface StorageAlarmPorts {
  config: GatewayConfig;
  logger: Logger;
  emit(event: EventInput): Promise<GatewayEvent>;
  write(command: OutputCommand): Promise<void>;
  /** Queues an SMS (the alarms' queue); null when no queue runs. */
  sms: ((to: readonly string[], text: string, reason: string) => Promise<void>) | null;
}

export function raiseStorageAlarm(p: StorageAlarmPorts, reason: string): void {
  const { config, logger } = p;
  // Not stored is expected here: the folder is gone. Rules and the county (if up) still see it.
  p.emit({
    deviceId: config.gateway.id,
    type: 'gateway.storage_failed',
    priority: 'critical',
    data: { reason, dataDir: config.dataDir },
  }).catch((err: Error) =>
    logger.warn(failure('STORAGE_FAILED', err), 'gateway.storage_failed not stored (the data folder is lost)'),
  );
  for (const s of config.alarms.sirens) {
    p.write({ deviceId: s.device, output: s.output, action: 'pulse', durationMs: s.testMs }).catch((err: Error) =>
      logger.error(failure('OUTPUT_FAILED', err, { siren: s }), 'storage alarm: siren not sounded'),
    );
  }
  const to = config.alarms.smsTo;
  if (to.length > 0 && p.sms) {
    const place = config.gateway.name ?? config.gateway.id;
    const text = textsFor(config.alarms.smsLanguage).sms.storageFailed({ place, reason });
    p.sms(to, text, 'storage failed').catch((err: Error) =>
      logger.error(
        failure('STATE_NOT_SAVED', err),
        'storage alarm: SMS state not saved (the SMS is still queued in memory)',
      ),
    );
  }
}
