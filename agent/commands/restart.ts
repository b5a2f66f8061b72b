/**
 * `restart {by?}` and `reboot`. `restart` asks the owner (the CLI's run loop, as a reload does)
 * to stop this agent cleanly and start it again with the same config, once the reply has gone
 * out; it is recorded first as gateway.restart_requested with who asked. It is an actuation
 * command: a restart asked for days ago must not happen when the link returns.
 * `reboot` is refused: the agent runs unprivileged (no capabilities, by design) and a county
 * command must not be able to power-cycle a village's alarms; a technician reboots on site.
 */
import { z } from 'zod';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';
import type { AgentRestart } from '../agent-options.js';
import { by } from './by.js';

const restartArgs = z.strictObject({ by });

export interface RestartPorts {
  gatewayId: string;
  emit(event: EventInput): Promise<GatewayEvent>;
  /** Stops and starts the agent after the reply is out; undefined when nothing owns a run loop (tests, embedding). */
  restart: AgentRestart | undefined;
}

export const restartCommand = (p: RestartPorts): CommandHandler<typeof restartArgs> => ({
  args: restartArgs,
  actuation: true,
  run: async ({ by: who }, ctx) => {
    if (!p.restart)
      throw new GatewayError('RESTART_UNAVAILABLE', 'this agent was not started by the CLI: it cannot restart itself');
    const wait = p.restart.waitMs();
    if (wait > 0)
      throw new GatewayError(
        'RATE_LIMITED',
        `the agent restarted less than a minute ago: the next restart in ${Math.ceil(wait / 1000)} s (each one stops the alarms for a moment)`,
      );
    // Stored before the restart is asked for: the record survives it, and goes out after.
    await p.emit({
      deviceId: p.gatewayId,
      type: 'gateway.restart_requested',
      priority: 'high',
      data: { by: who ?? null, command: ctx.id, keyId: ctx.keyId },
    });
    p.restart.run(who ?? null);
    return {
      accepted: true,
      note: 'the agent stops cleanly and starts again with the same config; gateway.started follows',
    };
  },
});

export const rebootCommand = (): CommandHandler<z.ZodObject> => ({
  args: z.strictObject({}),
  run: () => {
    throw new GatewayError(
      'REBOOT_UNAVAILABLE',
      'the agent runs unprivileged and cannot reboot the gateway; use restart to restart the agent, or reboot on site',
    );
  },
});
