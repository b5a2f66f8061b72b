import {
  gatewayConfigSchema,
  type GatewayConfig,
  type GatewayConfigInput,
} from '../../config/schema/gateway-config.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** A valid config for tests: fast reconnects, no pacing, the given broker and data dir. */
export function testConfig(
  url: string,
  dataDir: string,
  over: DeepPartial<GatewayConfigInput> & Record<string, unknown> = {},
): GatewayConfig {
  const { mqtt, ...rest } = over as { mqtt?: Record<string, unknown> };
  return gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'gw-test' },
    dataDir,
    log: { level: 'warn' },
    clock: { synced: 'always' },
    health: { intervalSec: 3600 },
    ...rest,
    mqtt: {
      url,
      protocolVersion: 4,
      reconnect: { minMs: 100, maxMs: 1000, jitter: 0.2 },
      replay: { messagesPerSec: 0, burst: 100 },
      willDelaySec: 0,
      ...mqtt,
    },
  });
}
