/** The Node-RED child (agent/nodered/supervisor.ts): started, stopped, a crash loop. */
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
      starts: count,
      windowSec: count,
      lastCode: z.int().nullable(),
      lastSignal: z.string().nullable(),
    }),
    'the Node-RED child kept dying: it is started in safe mode (flows stopped) until the agent restarts',
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
};
