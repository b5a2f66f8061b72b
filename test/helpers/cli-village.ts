/** The gateway config a CLI agent runs in the fault tests: the panic panel, its rule, and optionally a meter. */
import type { GatewayConfigInput } from '../../config/schema/gateway-config.js';
import type { DeviceOf } from './config-input.js';
import type { PanicPanel } from './panic-panel.js';

export interface CliVillageOptions {
  gatewayId: string;
  dataDir: string;
  url: string;
  panel: PanicPanel;
  /** Synthetic telemetry (normal priority), so a backlog builds up behind the alarms. */
  telemetryPerSec?: number;
  healthSec?: number;
  /** Replay pacing (messages/s); 0 = unpaced. Paced, a kill lands mid-drain. */
  messagesPerSec?: number;
}

export function cliVillageConfig(o: CliVillageOptions): GatewayConfigInput {
  const panel = o.panel.config();
  const meter: DeviceOf<'synthetic'>[] = o.telemetryPerSec
    ? [
        {
          id: 'meter-1',
          driver: 'synthetic',
          rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: o.telemetryPerSec },
        },
      ]
    : [];
  return {
    version: 1,
    gateway: { id: o.gatewayId },
    dataDir: o.dataDir,
    log: { level: 'error' },
    clock: { synced: 'always' },
    health: { intervalSec: o.healthSec ?? 3600 },
    mqtt: {
      url: o.url,
      protocolVersion: 4,
      reconnect: { minMs: 100, maxMs: 1000, jitter: 0.2 },
      replay: o.messagesPerSec ? { messagesPerSec: o.messagesPerSec, burst: 10 } : { messagesPerSec: 0, burst: 100 },
      batch: { maxEvents: 10 },
      willDelaySec: 0,
    },
    buses: panel.buses,
    devices: [...panel.devices, ...meter],
    rules: panel.rules,
  };
}
