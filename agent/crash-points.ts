/**
 * A test-only crash hook: with VG_CRASH_AT_WRITE=N the process kills itself with SIGKILL
 * right after its Nth durable write (an outbox commit or a durable file write), so a fault
 * test can crash a short run at every write in turn and check that nothing acknowledged is
 * lost. VG_CRASH_AT_WRITE=before:N kills right before the Nth write instead. Unset (as in
 * production), it costs one comparison per write.
 */
const spec = process.env.VG_CRASH_AT_WRITE;
const match = spec ? /^(before:)?(\d+)$/.exec(spec) : null;
const crashAt = match ? Number(match[2]) : 0;
const before = match?.[1] !== undefined;
let writes = 0;

/** Brackets one durable write: `beforeWrite()` just before it, `afterWrite()` once it returned. */
export const crashPoints = {
  beforeWrite(): void {
    if (crashAt > 0 && before && writes + 1 === crashAt) process.kill(process.pid, 'SIGKILL');
  },
  afterWrite(): void {
    writes += 1;
    if (crashAt > 0 && !before && writes === crashAt) process.kill(process.pid, 'SIGKILL');
  },
  /** Durable writes so far (a fault test reads it via the env-less run's log to size its loop). */
  get count(): number {
    return writes;
  },
};
