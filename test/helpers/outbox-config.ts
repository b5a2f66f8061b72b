/** The outbox's config as the schema makes it, defaults filled in, for tests that open an Outbox alone. */
import { gatewayConfigSchema, type GatewayConfigInput, type OutboxConfig } from '../../config/schema/gateway-config.js';

export function outboxConfig(over: NonNullable<GatewayConfigInput['outbox']> = {}): OutboxConfig {
  return gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'gw' },
    dataDir: '/x',
    mqtt: { url: 'mqtt://h' },
    outbox: over,
  }).outbox;
}
