/**
 * The county's `restart`, spaced: at most one a minute. Each restart stops the agent (and the
 * alarms it runs) for a moment, so a flood of `restart` commands must not keep it restarting.
 * Made once by the CLI's run loop, it outlives every agent it restarts.
 */
import type { AgentRestart } from './agent-options.js';

export const RESTART_SPACING_MS = 60_000;

export function spacedRestart(run: (by: string | null) => void, now = () => performance.now()): AgentRestart {
  let lastAt = -Infinity;
  return {
    waitMs: () => Math.max(0, lastAt + RESTART_SPACING_MS - now()),
    run: (by) => {
      lastAt = now();
      run(by);
    },
  };
}
