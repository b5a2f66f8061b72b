import {
  gatewayConfigSchema,
  type GatewayConfig,
  type GatewayConfigInput,
  type OutboxConfig,
} from '../../config/schema/gateway-config.js';

/**
 * What a test may lay over the defaults: any top-level section, each in the config's own input
 * type (so a typo in a device, bus or rule fails typecheck); `mqtt` is merged key by key over the
 * test broker's settings, so it may give only the keys it changes.
 */
export type TestConfigOver = Partial<Omit<GatewayConfigInput, 'mqtt'>> & {
  mqtt?: Partial<GatewayConfigInput['mqtt']>;
};

/** A valid config for tests: fast reconnects, no pacing, the given broker and data dir. */
export function testConfig(url: string, dataDir: string, over: TestConfigOver = {}): GatewayConfig {
  const { mqtt, ...rest } = over;
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

/** The outbox section as the agent gets it: the schema's defaults with `over` laid on top. */
export function outboxConfig(over: GatewayConfigInput['outbox'] = {}): OutboxConfig {
  return gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'gw' },
    dataDir: '/x',
    mqtt: { url: 'mqtt://h' },
    outbox: over,
  }).outbox;
}
