import { defineConfig } from 'vitest/config';

/**
 * The long form of the fault suite (`npm run test:faults`): the same files `npm test` runs
 * in their short form, sized up by VG_FAULTS=long (200 kills, every crash point, repeated
 * broker and link faults, a million-record serial fuzz). CI runs it after `npm test` (`.ci/run`).
 */
export default defineConfig({
  test: {
    // The serial decoders' fuzz: 50,000 records in `npm test`, a million here.
    include: ['test/faults/**/*.test.ts', 'test/drivers/serial-decoders.test.ts'],
    env: { VG_FAULTS: 'long' },
    // The long tests set their own limits (kill -9 x200: 30 min); anything else that hangs fails in 5.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // The long files each run for minutes with real processes: one file at a time keeps them from starving each other.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
