import { defineConfig } from 'vitest/config';

// Kernel tests: run inside the User-Mode Linux test bed by
// `node test/kernel/harness.mjs --suite` (never directly on a host; see
// test/kernel/helpers.ts requireKernel). They all share one IPVS table, so
// nothing runs in parallel: one worker, one file at a time, tests in order.
export default defineConfig({
  test: {
    include: ['test/kernel/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    sequence: { concurrent: false, shuffle: false },
    // every syscall is slow under UML
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    watch: false,
  },
});
