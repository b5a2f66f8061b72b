/**
 * The real clock. "Synced" cannot be read from the time itself: a Pi without an RTC boots
 * at its last saved time. With `timesyncd` we trust the marker systemd-timesyncd writes
 * once it has synchronised; the year check catches an obviously unset clock.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Clock } from './clock.js';

const TIMESYNCD_MARKER = '/run/systemd/timesync/synchronized';
const EARLIEST_PLAUSIBLE = Date.UTC(2025, 0, 1);

export function systemClock(mode: 'timesyncd' | 'always' | 'never'): Clock {
  const start = performance.now();
  let synced = false;
  let checkedAt = -Infinity;
  return {
    now: () => Date.now(),
    monoMs: () => Math.round((performance.now() - start) * 1000) / 1000,
    synced: () => {
      if (mode !== 'timesyncd') return mode === 'always';
      const t = performance.now();
      if (!synced && t - checkedAt > 5000) {
        checkedAt = t;
        synced = Date.now() > EARLIEST_PLAUSIBLE && existsSync(TIMESYNCD_MARKER);
      }
      return synced;
    },
  };
}
