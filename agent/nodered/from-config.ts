/**
 * What the Node-RED supervisor is given from the gateway config: each event device id's tags
 * (what `village in` filters on, as the rule engine sees them), the outputs flows may drive,
 * and the supervisor itself built from the `nodeRed` section.
 */
import type { Logger } from 'pino';
import { resolveSecret } from '../../config/load-config.js';
import { deviceTags } from '../../config/device-tags.js';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import { NodeRedSupervisor, type SupervisorOptions } from './supervisor.js';

/** `device/output` of every output a flow may drive (outputs.<name>.flowWritable: true). */
export function flowWritableOutputs(config: Pick<GatewayConfig, 'devices'>): Set<string> {
  const out = new Set<string>();
  for (const d of config.devices)
    if (d.driver === 'modbus')
      for (const [name, o] of Object.entries(d.outputs)) if (o.flowWritable) out.add(`${d.id}/${name}`);
  return out;
}

/** The test-tunable parts of the supervisor (timings, sizes, paths); the rest comes from the config. */
export type SupervisorTuning = Partial<
  Pick<
    SupervisorOptions,
    'nodesDir' | 'defaultFlows' | 'pingMs' | 'pongTimeoutMs' | 'restart' | 'crashLoop' | 'limits' | 'queueSize'
  >
>;

/**
 * The supervisor for a config's `nodeRed` section, or null when it is absent or off: secrets
 * resolved, the outputs flows may drive and every device's tags worked out from the devices.
 */
export function supervisorFromConfig(
  config: GatewayConfig,
  baseDir: string,
  logger: Logger,
  ports: SupervisorOptions['ports'],
  tuning: SupervisorTuning = {},
): NodeRedSupervisor | null {
  const nr = config.nodeRed;
  if (!nr?.enabled) return null;
  const tags = deviceTags(config);
  return new NodeRedSupervisor({
    config: {
      ...nr,
      credentialSecret: resolveSecret(nr.credentialSecret, baseDir),
      users: nr.users.map((u) => ({ username: u.username, password: resolveSecret(u.password, baseDir) })),
    },
    dataDir: config.dataDir,
    gatewayId: config.gateway.id,
    logger: logger.child({ part: 'nodered' }),
    logLevel: config.log.level,
    flowWritable: flowWritableOutputs(config),
    tagsOf: (id) => tags.get(id) ?? [],
    devices: [...tags].map(([id, t]) => ({ id, tags: t })),
    ports,
    ...tuning,
  });
}
