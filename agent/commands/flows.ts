/**
 * `flows.get` and `flows.apply`: the county reads the Node-RED flow file (never its credentials)
 * and pushes a whole new one, naming the revision it replaces (agent/push/flows-push.ts). Like
 * config.apply, the apply is an actuation, refused during an alarm (push-apply.ts).
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';
import type { FlowsApplyArgs } from '../push/flows-push.js';
import { pushApplyCommand, pushArgs, pushGetCommand } from './push-apply.js';

export interface FlowsPushPort {
  get(): unknown;
  apply(a: FlowsApplyArgs): unknown;
}

const noNodeRed = () => new GatewayError('NO_NODE_RED', 'this gateway runs no Node-RED: there are no flows');

export const flowsGetCommand = (push: FlowsPushPort | null): CommandHandler<z.ZodObject> =>
  pushGetCommand(push ? () => push.get() : null, noNodeRed);

const applyArgs = z.strictObject({
  // Checked node by node in flows-check.ts, so that a refusal names each problem by index and id.
  flows: z.unknown(),
  expectedRevision: z.string().min(1).max(64),
  ...pushArgs,
});

export const flowsApplyCommand = (
  push: FlowsPushPort | null,
  openAlerts: () => number,
): CommandHandler<typeof applyArgs> =>
  pushApplyCommand(applyArgs, push ? (a, ctx) => push.apply({ ...a, keyId: ctx.keyId }) : null, noNodeRed, openAlerts);
