/** The Node-RED child (agent/nodered/supervisor.ts): started, stopped, a crash loop, safe mode left, failed logins; pushed flows applied or rolled back (agent/push/). */
import { z } from 'zod';
import { spec } from './define.js';

const count = z.int().min(0);

export const noderedEvents = {
  'nodered.started': spec(
    'normal',
    z.strictObject({
      url: z.string().describe("The editor's address"),
      safeMode: z.boolean().describe('Started with the flows stopped'),
      startMs: count.describe('From fork to ready'),
      restarts: count,
    }),
    'the Node-RED child is ready (also after each restart)',
  ),
  'nodered.stopped': spec(
    'high',
    z.strictObject({
      reason: z.enum(['exit', 'heartbeat', 'start-timeout', 'memory', 'channel']),
      code: z.int().nullable(),
      signal: z.string().nullable(),
      restartInMs: count,
      restarts: count,
    }),
    'the Node-RED child died or stopped answering and was killed; it is restarted after `restartInMs`',
  ),
  'nodered.crash_loop': spec(
    'high',
    z.strictObject({
      reason: z
        .enum(['heartbeat-kills', 'exits', 'starts'])
        .describe('Which limit was reached (agent/nodered/crash-loop.ts)'),
      count: count.describe('Heartbeat kills, abnormal exits or starts within the window'),
      windowSec: count,
      lastCode: z.int().nullable(),
      lastSignal: z.string().nullable(),
    }),
    'the Node-RED child kept dying or hanging: it runs in safe mode (flows stopped, editor up) until a technician leaves it (`leave-safe-mode` command or `village-gateway editor safe-mode off`) or a county flows push replaces the flows, across agent restarts',
  ),
  'nodered.safe_mode_left': spec(
    'normal',
    z.strictObject({
      by: z
        .enum(['command', 'cli', 'push'])
        .describe(
          'The county command, the technician on site, or a county flows push (flows.apply) that replaces the flows',
        ),
    }),
    'safe mode was left on request: the crash-loop counts are cleared and the child restarts with its flows (a push: with the pushed flows, on probation; their rollback goes back to safe mode)',
  ),
  'nodered.login_failed': spec(
    'high',
    z.strictObject({
      client: z
        .string()
        .describe("The client: its IPv4 address, or its IPv6 /64 network (as the editor's front counts failures)"),
      count: count.describe('Failed logins in a row from this client'),
      total: count.describe('Failed logins since the child started, from all clients'),
      blockedSec: count.describe('How long the client is now refused'),
    }),
    'failed editor logins in a row from one client (the 5th, when it is first blocked; at most 10 an hour)',
  ),
  'nodered.login_guessing': spec(
    'high',
    z.strictObject({
      failures: count.describe('Failed logins within the window, from all clients'),
      clients: count.describe('How many clients (addresses, IPv6 /64s) they came from'),
      windowSec: count.describe('The window'),
    }),
    'failed editor logins spread over many clients (a guess no single block catches); at most one per window',
  ),
  'nodered.nodes_excluded': spec(
    'high',
    z.strictObject({
      total: count.describe('Nodes of the flow file that do not run'),
      types: z.array(z.string()).describe('Their types (`exec`, `tcp request`, ...)'),
      nodes: z
        .array(
          z.strictObject({
            id: z.string(),
            type: z.string(),
            name: z.string().nullable(),
            flow: z.string().nullable().describe("The tab's label (or the subflow's name)"),
          }),
        )
        .max(50)
        .describe('The first 50 of them'),
    }),
    'at start, the flows use core nodes that are off on this gateway (`nodeRed.allowNodes`): those nodes do not run, the rest of the flows do',
  ),
  'flows.applied': spec(
    'critical',
    z.strictObject({
      revision: z.string().describe('The pushed flow file (as flows.get names it)'),
      previousRevision: z.string().describe('The flow file it replaced (`none`: there was none)'),
      by: z.string(),
      keyId: z.string().nullable().describe('The county key that signed the push (null: not signed)'),
      probationSec: count,
    }),
    'pushed flows (flows.apply) passed their probation window (the child restarted with them, answered its heartbeat, no crash, no safe mode) and stay',
  ),
  'flows.rolled_back': spec(
    'critical',
    z.strictObject({
      revision: z.string(),
      previousRevision: z.string(),
      reason: z
        .string()
        .describe('What failed: the child exited (code), stopped answering its heartbeat, safe mode, an agent restart'),
      by: z.string(),
      keyId: z.string().nullable().describe('The county key that signed the push (null: not signed)'),
    }),
    'pushed flows failed their probation: the previous flow file is back and the child restarted with it',
  ),
};
