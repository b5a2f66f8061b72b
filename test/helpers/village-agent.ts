/** An in-process agent for the panic panel's village (faults around it: broker, link, clock). */
import { Agent } from '../../agent/agent.js';
import type { Clock } from '../../core/kernel/clock.js';
import { testConfig, type TestConfigOver } from './agent-config.js';
import type { PanicPanel } from './panic-panel.js';
import { quietLogger } from './quiet-logger.js';

export interface VillageAgentOptions {
  url: string;
  dir: string;
  panel: PanicPanel;
  gatewayId: string;
  clock?: Clock;
  /** Config overrides (merged over the test defaults: fast reconnects, unpaced replay). */
  over?: TestConfigOver;
}

export function villageAgent(o: VillageAgentOptions): Agent {
  const { mqtt, ...rest } = o.over ?? {};
  const config = testConfig(o.url, o.dir, {
    gateway: { id: o.gatewayId },
    ...o.panel.config(),
    ...rest,
    ...(mqtt ? { mqtt } : {}),
  });
  return new Agent({
    config,
    configHash: 'faults',
    baseDir: o.dir,
    logger: quietLogger(),
    ...(o.clock ? { clock: o.clock } : {}),
  });
}
