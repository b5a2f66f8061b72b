/**
 * `reload-config`: the owner (the CLI) validates the file and checks it can run here while this
 * agent runs on; only then does it restart with it. The reply says accepted, not applied: the
 * new agent says gateway.config_applied once it runs (or the old one, gateway.config_rejected).
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';

export type ReloadResult =
  { ok: true; configHash: string } | { ok: false; code: 'CONFIG_INVALID' | 'CONFIG_CANNOT_RUN'; problems: string[] };

const args = z.strictObject({});

export const reloadConfigCommand = (reload: (() => ReloadResult) | undefined): CommandHandler<typeof args> => ({
  args,
  run: () => {
    if (!reload) throw new GatewayError('RELOAD_UNAVAILABLE', 'this agent was not started from a config file');
    const res = reload();
    if (!res.ok) {
      const what = res.code === 'CONFIG_INVALID' ? 'is invalid' : 'cannot run on this gateway';
      throw new GatewayError(res.code, `the new config ${what}; the running config stays: ${res.problems.join('; ')}`);
    }
    return {
      accepted: true,
      applied: false,
      configHash: res.configHash,
      note: 'the agent restarts with it now; gateway.config_applied follows once it runs, or gateway.config_rejected with the previous config back',
    };
  },
});
