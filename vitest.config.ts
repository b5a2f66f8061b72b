import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start brokers and processes; two cores, so keep files in parallel modest.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
