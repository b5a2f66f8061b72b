import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The files mostly wait (brokers, child agents, poll intervals, fault windows): with two
    // workers on two cores the CPU sat about 40 % busy. Four files at a time took npm test from
    // 106 s to 60-64 s on this machine, with the same timing assertions passing (3 runs).
    maxWorkers: 4,
    fileParallelism: true,
  },
});
