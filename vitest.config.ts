import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one PostgreSQL (a schema each) and spawn worker processes: two cores.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
