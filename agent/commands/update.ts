/**
 * `update {url, version, by?}`: the county asks the gateway to fetch a signed release bundle
 * (agent/update/stager.ts). An actuation (an update queued on the broker for days must not
 * land on a village that moved on), refused during an alarm (the apply step restarts the
 * agent), while a config or flows push is on probation or another update is staged (one
 * change judged at a time), and for the release that runs already.
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';
import { pushOnProbation } from '../push/push-state.js';
import { VERSION } from '../version.js';
import type { UpdateStager } from '../update/stager.js';
import { by } from './by.js';

/** Also the county tool's check before it sends anything (scripts/county/villages-args.ts). */
export const updateArgs = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  version: z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/),
  by,
});

export interface UpdatePorts {
  dataDir: string;
  stager: UpdateStager;
  openAlerts: () => number;
}

export const updateCommand = (p: UpdatePorts): CommandHandler<typeof updateArgs> => ({
  args: updateArgs,
  actuation: true,
  run: async ({ url, version, by: who }) => {
    const open = p.openAlerts();
    if (open > 0)
      throw new GatewayError('ALARM_ACTIVE', `${open} alert(s) not acknowledged: send the update again once they are`);
    if (version === VERSION) throw new GatewayError('SAME_VERSION', `release ${VERSION} runs already`);
    const push = pushOnProbation(p.dataDir);
    if (push) throw new GatewayError('UPDATE_PENDING', `a ${push} push is on probation: wait for its verdict`);
    if (p.stager.pending())
      throw new GatewayError('UPDATE_PENDING', 'an update is being fetched or waits to be applied: wait for its event');
    // Who asked is in the reply only: the county keeps the command and its reply together.
    return { ...(await p.stager.start(url, version)), by: who ?? null };
  },
});
