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
};
