/**
 * Builds a county push's two halves (config-push.ts, probation.ts) for the CLI's run loop, which
 * owns the file and the restarts; what watches a started agent also reports a release update's
 * result (update-report.ts), so the run loop has one thing to start and stop.
 */
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../config/load-config.js';
import type { Agent } from '../agent.js';
import { checkReload, type ReloadCheck } from '../config-lifecycle.js';
import { VERSION } from '../version.js';
import { ConfigPush } from './config-push.js';
import { Probation, type ProbationAgent } from './probation.js';
import { UpdateReport } from '../update-report.js';

const onlineIds = (agent: Agent | null) =>
  agent ? agent.observe.devices().flatMap((d) => (d.online ? d.deviceIds : [])) : [];

export function wirePush(
  file: string,
  logger: Logger,
  now: () => { loaded: LoadedConfig; agent: Agent | null },
  requestReload: (by: string, delayMs: number) => ReloadCheck,
) {
  const push = new ConfigPush({
    file,
    running: () => now().loaded,
    devicesOnline: () => onlineIds(now().agent),
    reload: (by) => requestReload(by, 300), // the reply goes out first
    check: checkReload,
    version: VERSION,
  });
  const judge = new Probation(file, logger, (by) => void requestReload(by, 0));
  const updates = new UpdateReport(logger);
  const probation = {
    atStart: (dataDir: string) => judge.atStart(dataDir),
    started(dataDir: string, hash: string, agent: ProbationAgent) {
      judge.started(dataDir, hash, agent);
      updates.started(dataDir, agent);
    },
    stop() {
      judge.stop();
      updates.stop();
    },
  };
  /** What the probation watches of a running agent. */
  const watched = (agent: Agent): ProbationAgent => ({
    gatewayId: now().loaded.config.gateway.id,
    linkUp: () => agent.observe.link().up,
    devicesOnline: () => onlineIds(agent),
    emit: (e) => agent.emit(e),
  });
  return { push, probation, watched };
}
