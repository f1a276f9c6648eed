import { defineConfig } from 'vitest/config';

/** The resume tests, run a second time with `AgentHost.PreparedResume` off (test/support/worker.ts reads it). */
const resumeTests = [
  'test/integration/host/inputs.test.ts',
  'test/integration/host/rejections.test.ts',
  'test/integration/nats/intake.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one PostgreSQL (a schema each) and spawn worker processes: two cores.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'all', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'prepared-resume-off', include: resumeTests, env: { TEST_PREPARED_RESUME: 'false' } },
      },
    ],
  },
});
