/**
 * `logs {lines?, level?}`: the agent's last log lines (diagnostics/log-ring.ts), newest last,
 * for a county that cannot read the gateway's journal. At most 200 lines of at most 500
 * characters, and never more than the reply budget; secrets are redacted before a line is kept.
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';
import { LEVEL_NAMES, RING_LINES, type LogRing } from '../diagnostics/log-ring.js';
import { newestWithin } from './reply-budget.js';

const args = z.strictObject({
  lines: z.int().min(1).max(RING_LINES).optional(),
  level: z.enum(LEVEL_NAMES).optional(),
});

export const logsCommand = (ring: LogRing | null): CommandHandler<typeof args> => ({
  args,
  run: ({ lines, level }) => {
    if (!ring) throw new GatewayError('LOGS_UNAVAILABLE', 'this agent keeps no log lines in memory');
    const { kept, omitted } = newestWithin(ring.recent(lines ?? 50, level ?? 'info').map((l) => l.line));
    return { lines: kept, omitted, seenSinceStart: ring.total };
  },
});
