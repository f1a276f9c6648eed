import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['test/unit/http/**/*.test.ts', 'test/unit/cli/**/*.test.ts'], testTimeout: 20_000 } });
